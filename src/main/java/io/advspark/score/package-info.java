/**
 * Competition scores and the numbers behind them: {@link io.advspark.score.Scoring} presets
 * (Tianchi 2019, NIPS 2017, attack success rate), the norms of the written perturbation ({@link
 * io.advspark.score.Perturbation}), Wilson intervals and the leaderboard of a round.
 *
 * <p>A new preset is a record implementing {@code Scoring} with its {@code public static final
 * Entry} declaration; docs/scores.md is generated from it. Uses data and vocabulary only.
 */
package io.advspark.score;
