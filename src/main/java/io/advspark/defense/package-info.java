/**
 * Input defenses in front of a scored target, applied to the 8-bit image ({@link
 * io.advspark.defense.Defense}): JPEG, bit-depth reduction, random resize and pad, median and
 * Gaussian blur, chained left to right by {@link io.advspark.defense.DefenseChain}
 * ({@code jpeg(75) > bits(4) > model}); then the tensor stages ({@link
 * io.advspark.defense.TensorDefense}), which involve a network and which the round's scorer runs on
 * the float image: purifiers ({@code purify(path=...)}) and randomized smoothing ({@code rs}).
 *
 * <p>A new image defense is one class here implementing {@code Defense} with its {@code public static
 * final Entry} declaration (marked randomised if it draws numbers); docs/defenses.md is generated
 * from it. A new tensor stage is a class here too, but the scorer ({@code round.BatchScorer}) must
 * also learn to run it, which is why {@code TensorDefense} is sealed. Uses data and vocabulary only.
 */
package io.advspark.defense;
