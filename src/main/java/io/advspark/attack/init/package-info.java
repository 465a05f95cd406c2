/**
 * Starts ({@code attack.init}): the perturbation the iteration begins from (zeros, uniform, Gaussian, Perlin noise, a blend toward a target-class guide image).
 *
 * <p>A new one is one class here implementing this package's interface, with its {@code public
 * static final Entry} declaration (name, parameters with defaults and ranges, paper); the catalogue
 * finds it, and docs/attack-parts.md is regenerated from it ({@code tools/generate-docs}).
 */
package io.advspark.attack.init;
