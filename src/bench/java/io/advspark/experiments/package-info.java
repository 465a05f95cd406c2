/**
 * Experiment harnesses: main programs that answer a research question with a results table, run
 * by the {@code jobs/experiment-*} scripts, never by the test suite.
 *
 * <h2>What lives here</h2>
 * <ul>
 *   <li>{@link io.advspark.experiments.FilterExperiment}: where a perturbation filter belongs in the
 *       loop ({@code jobs/experiment-filter}, {@code docs/filter-experiment.md});
 *   <li>{@link io.advspark.experiments.DropoutExperiment}: dropout inside the surrogate, Ghost
 *       Networks ({@code jobs/experiment-dropout}, {@code docs/dropout-experiment.md}).
 * </ul>
 * Each prints a markdown table as it goes and appends the whole table to its {@code --out} file
 * ({@link io.advspark.bench.BenchCommand#appendTable}); the script writes the run's heading (date,
 * commit) above it. docs/experiments.md summarises the tables. The recipes' transfer experiment needs no
 * harness: {@code jobs/experiment-transfer} runs the product's rounds and {@code advspark report}.
 *
 * <h2>Adding an experiment</h2>
 * As a harness in {@link io.advspark.bench} (see there): a {@code BenchCommand} subclass with named
 * {@code @Option}s and the {@link io.advspark.bench.BenchOptions} mixins ({@code --data},
 * {@code --label-base}, {@code --threads}, {@code --out}), defaults equal to what its
 * {@code jobs/experiment-x} script passes; the engine driven directly
 * ({@code new AttackEngine(cfg.toAttack(), ensemble)}), scored on the 8-bit images that
 * would be written; deterministic seeds ({@code Draws.seedFor}) so a rerun gives the same table.
 * This source set is on the test classpath but is not a test source: surefire and failsafe
 * exclude this package.
 *
 * <h2>Timing</h2>
 * The seconds column of a table is informative only. Timing targets belong to the benchmarks of
 * {@link io.advspark.bench}, never to timed unit tests; tests assert behaviour, not speed.
 */
package io.advspark.experiments;
