/**
 * Input transforms ({@code attack.input}), applied in order to the iterate before each forward (diverse inputs, scale copies, Admix, the spectrum simulation, the block transforms BSR and SIA, OPS's operator sampling, translations, rotations, flips, noise, JPEG); randomised ones draw from the image's stream.
 *
 * <p>A new one is one class here implementing this package's interface, with its {@code public
 * static final Entry} declaration (name, parameters with defaults and ranges, paper); the catalogue
 * finds it, and docs/attack-parts.md is regenerated from it ({@code tools/generate-docs}).
 */
package io.advspark.attack.input;
