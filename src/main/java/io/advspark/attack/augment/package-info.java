/**
 * Model augmentations ({@code attack.augment}): changes inside the surrogates at every forward, e.g. dropout at the model's dropout sites (Ghost Networks). {@link io.advspark.attack.augment.Augments} turns them into the load-time check of the surrogates.
 *
 * <p>A new one is one class here implementing this package's interface, with its {@code public
 * static final Entry} declaration (name, parameters with defaults and ranges, paper); the catalogue
 * finds it, and docs/attack-parts.md is regenerated from it ({@code tools/generate-docs}).
 */
package io.advspark.attack.augment;
