/**
 * Gradient transforms ({@code attack.gradient}), applied in order to the ensemble's gradient before the update (translation-invariant smoothing, L1 normalisation).
 *
 * <p>A new one is one class here implementing this package's interface, with its {@code public
 * static final Entry} declaration (name, parameters with defaults and ranges, paper); the catalogue
 * finds it, and docs/attack-parts.md is regenerated from it ({@code tools/generate-docs}).
 */
package io.advspark.attack.gradient;
