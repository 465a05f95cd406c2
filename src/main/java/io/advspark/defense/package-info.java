/**
 * Input defenses in front of a scored target, applied to the 8-bit image ({@link
 * io.advspark.defense.Defense}): JPEG, bit-depth reduction, random resize and pad, median and
 * Gaussian blur, chained left to right by {@link io.advspark.defense.DefenseChain}
 * ({@code jpeg(75) > bits(4) > model}).
 *
 * <p>A new defense is one class here implementing {@code Defense} with its {@code public static
 * final Entry} declaration (marked randomised if it draws numbers); docs/defenses.md is generated
 * from it. Uses data and vocabulary only.
 */
package io.advspark.defense;
