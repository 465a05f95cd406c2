/**
 * Benchmark harnesses: main programs that measure time or memory, run by the {@code jobs/bench*}
 * scripts, never by the test suite.
 *
 * <h2>What lives here</h2>
 * <ul>
 *   <li>{@link io.advspark.bench.KernelBench}: libtorch alone against the PyTorch reference
 *       ({@code jobs/bench --kernels});
 *   <li>{@link io.advspark.bench.PartCostBench}: per-iteration cost of each attack part
 *       ({@code jobs/bench --parts});
 *   <li>{@link io.advspark.bench.ScalingBench}: images/s on a loopback standalone cluster with 1 and
 *       2 executors ({@code jobs/bench-scaling});
 *   <li>{@link io.advspark.bench.SoakBench}: resident memory over repeated rounds in one JVM
 *       ({@code jobs/bench-soak});
 *   <li>{@link io.advspark.bench.BenchCommand} and {@link io.advspark.bench.BenchOptions}: the
 *       shared picocli base and option mixins of every harness here and in
 *       {@link io.advspark.experiments}; {@code Machine}: load, busy CPU time, wait-for-idle and JSON
 *       lines.
 * </ul>
 * ({@code jobs/bench} without a mode and {@code jobs/bench-evaluate} time whole rounds through
 * {@code jobs/advspark} and need no class here.)
 *
 * <h2>Source set</h2>
 * {@code src/bench/java} is added to the test sources by build-helper-maven-plugin: the harnesses
 * see the test fixtures ({@code io.advspark.testing}) and the test classpath, compile into
 * {@code target/test-classes} with {@code mvn -o -q -B test-compile} (or {@code package}), and are
 * never in {@code advspark.jar}. Surefire and failsafe exclude this package and
 * {@code io.advspark.experiments}, so no class here ever runs as a test, whatever its name.
 *
 * <h2>Adding a harness</h2>
 * <ol>
 *   <li>A {@code public final class XBench extends BenchCommand} annotated
 *       {@code @Command(name = "XBench", description = ...)}, with
 *       {@code public static void main(String[] args) { BenchCommand.main(new XBench(), args); }} and
 *       the work in {@link io.advspark.bench.BenchCommand#run()}.
 *   <li>Named options only, never {@code args[i]}: {@code @Option} fields whose initial values are
 *       the defaults (shown by {@code --help}), and the shared {@code @Mixin}s of
 *       {@link io.advspark.bench.BenchOptions} ({@code --threads}, {@code --data}/{@code --label-base},
 *       {@code --out}), constructed with this harness's defaults where they differ. Paths into the
 *       shared data and models default through {@link io.advspark.bench.BenchCommand#shared()}.
 *   <li>Machine-readable results on stdout (one JSON line per measurement, {@code Machine.json}),
 *       progress on stderr; the {@code jobs/} script waits for an idle machine, records the load,
 *       the commit and the exact command, and writes the report under {@code bench-results/}.
 *   <li>A {@code jobs/bench-x} script (or a mode of {@code jobs/bench}) with {@code --help}, passing
 *       named options, building with {@code mvn -o -q -B -DskipTests package} when the classes are
 *       stale; document it in docs/benchmarks.md next to the other benchmarks.
 *   <li>Check it with {@code --help} or the smallest arguments that finish in seconds.
 * </ol>
 *
 * <h2>Timing targets live here</h2>
 * A performance target (a ratio to the reference, an images/s, a flat memory slope) is measured by
 * a harness here on an idle machine and reported with the machine's load beside it. It is never
 * asserted in a unit or integration test: a timed test fails at random on a shared 2-core machine
 * or CI runner and, when it passes, proves nothing about the numbers. Tests check behaviour and
 * counts (for example the forwards per step that {@code StepObserver} sees); timing stays here.
 */
package io.advspark.bench;
