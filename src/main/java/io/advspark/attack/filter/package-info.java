/**
 * Perturbation filters ({@code attack.filter}): smoothing or low-pass projection of each step (Gaussian, DCT low-frequency).
 *
 * <p>A new one is one class here implementing this package's interface, with its {@code public
 * static final Entry} declaration (name, parameters with defaults and ranges, paper); the catalogue
 * finds it, and docs/attack-parts.md is regenerated from it ({@code tools/generate-docs}).
 */
package io.advspark.attack.filter;
