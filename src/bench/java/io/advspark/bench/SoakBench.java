package io.advspark.bench;

import io.advspark.cli.Main;
import io.advspark.job.AttackJob;
import io.advspark.job.RoundSummary;
import io.advspark.job.Sessions;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.ConfigLoader;
import io.advspark.plan.RoundConfig;
import io.advspark.testing.StandaloneCluster;
import java.io.File;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.management.JMException;
import javax.management.ObjectName;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Memory soak (issue 5, "Memory"): the same round again and again in ONE JVM and ONE Spark
 * application on {@code local[1]} (the driver is the executor, so the executor's libtorch lives in
 * this process), each round with {@code --force} semantics (its outputs removed first, every image
 * attacked again: a new model broadcast, new tasks, new batches). After every round it samples the
 * process and prints one JSON line on stdout; {@code jobs/bench-soak} formats the table and the
 * verdict, and documents the options.
 *
 * <p>Sample: {@code VmRSS} and {@code VmHWM} of /proc/self/status; JVM heap used (after a
 * {@code System.gc()}, so it is live data, not garbage waiting for a collection) and committed;
 * non-heap committed (metaspace, code cache, ...); direct and mapped NIO buffers; and the rest,
 * {@code RSS - heap committed - non-heap committed - buffers}: libtorch's allocations (tensors,
 * the TorchScript modules, OpenMP) plus the JVM's own native structures (thread stacks, GC, JIT
 * arenas), i.e. the native share. Threads: the JVM's live threads and the process's OS threads
 * (those include libtorch's OpenMP workers).
 *
 * <p>Executor mode ({@code --executor}, {@code jobs/bench-soak --executor}): the
 * same rounds from one application on a standalone cluster of its own (a Master and a Worker
 * JVM, see {@link StandaloneCluster}), so the sampled process is a real executor JVM, started by
 * its Worker, that outlives every job of the application: what a notebook or a session running
 * round after round does to its executors. The sample then runs on the executor as a one-task job.
 *
 * <p>Usage: {@code SoakBench --out DIR [--conf FILE] [--minutes M] [--set KEY=VALUE]... [--executor
 * [--executor-memory SIZE] [--executor-java-options OPTS] [--worker-memory SIZE]]} ({@code --help}
 * lists them with their defaults; {@code --set} as the launcher's).
 */
@Command(name = "SoakBench",
        description = "Memory soak: the same round again and again in one JVM and one Spark application for --minutes;"
                + " one JSON sample per round on stdout (jobs/bench-soak formats the table and the verdict).")
public final class SoakBench extends BenchCommand {
    @Option(names = "--conf", paramLabel = "FILE", description = "the round's configuration")
    File conf = new File("conf/cifar10-resnets.conf");

    @Option(names = "--minutes", paramLabel = "M", description = "keep starting rounds this long (the last one finishes after it)")
    double minutes = 30;

    @Option(names = "--out", paramLabel = "DIR", required = true,
            description = "the rounds' output folder (round.output); in executor mode the cluster's folders go beside it")
    Path outputDir;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "a configuration override, as jobs/advspark --set (repeatable; after round.output, round.id=soak, threads=1)")
    List<String> sets = new ArrayList<>();

    @Option(names = "--executor",
            description = "sample a real executor JVM of a standalone cluster of its own instead of this JVM as local[1]")
    boolean executorMode;

    @Option(names = "--executor-memory", paramLabel = "SIZE", description = "with --executor: spark.executor.memory")
    String executorMemory = "1g";

    @Option(names = "--executor-java-options", paramLabel = "OPTS",
            description = "with --executor: more spark.executor.extraJavaOptions (after its -Djava.io.tmpdir)")
    String executorJavaOptions = "";

    @Option(names = "--worker-memory", paramLabel = "SIZE", description = "with --executor: the Worker's memory")
    String workerMemory = "4g";

    public static void main(String[] args) {
        BenchCommand.main(new SoakBench(), args);
    }

    @Override
    protected void run() throws Exception {
        Path outputDir = this.outputDir.toAbsolutePath();
        List<String> overrides = new ArrayList<>(List.of("round.output=\"file://" + outputDir + "\"", "round.id=soak", "threads=1"));
        overrides.addAll(sets);
        RoundConfig cfg = Main.withThreads(ConfigLoader.load(conf, overrides), 1);
        StandaloneCluster cluster = null;
        SparkSession spark;
        if (executorMode) {
            cluster = startCluster(outputDir.resolveSibling("cluster"));
            spark = Sessions.create(cfg, cluster.masterUrl(), executorConf(outputDir.resolveSibling("executor-tmp")));
        } else {
            TorchRuntime.start(1);
            spark = Sessions.create(cfg, "local[1]");
        }
        long t0 = System.nanoTime();
        long deadline = t0 + (long) (minutes * 60e9);
        try {
            sample(spark, executorMode, 0, t0, null);
            for (int round = 1; System.nanoTime() < deadline; round++) {
                RoundSummary s = AttackJob.run(cfg, spark, true);
                if (s.failed() > 0 || s.images() == 0) {
                    throw new IllegalStateException("round " + round + ": " + s.images() + " records, " + s.failed() + " failed");
                }
                sample(spark, executorMode, round, t0, s);
            }
        } finally {
            spark.stop();
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    /**
     * One Master and one Worker with one core, each in its own JVM, from the build's jars (as the
     * cluster tests); the Worker starts the one executor, which runs every task of every round.
     */
    private StandaloneCluster startCluster(Path dir) throws Exception {
        Path home = StandaloneCluster.sparkHome(Path.of("target"));
        StandaloneCluster c = StandaloneCluster.start(new StandaloneCluster.Options(home, dir, 1, 1,
                workerMemory, Map.of()));
        System.err.println("bench-soak: cluster up: " + c.masterUrl() + ", daemons " + c.pids());
        return c;
    }

    /**
     * The executor: this JVM's class path (the build's classes and every dependency), the soak's
     * heap and JVM options ({@code --executor-memory}, {@code --executor-java-options}),
     * one core and one libtorch thread.
     */
    private Map<String, String> executorConf(Path executorTmp) throws IOException {
        Files.createDirectories(executorTmp);
        Map<String, String> m = new LinkedHashMap<>();
        // Absolute: the executor runs in its Worker's work folder.
        m.put("spark.executor.extraClassPath", Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(e -> Path.of(e).toAbsolutePath().toString()).collect(Collectors.joining(File.pathSeparator)));
        m.put("spark.executor.memory", executorMemory);
        m.put("spark.executor.cores", "1");
        m.put("spark.executor.extraJavaOptions", ("-Djava.io.tmpdir=" + executorTmp + " "
                + executorJavaOptions).trim());
        m.put("spark.scheduler.minRegisteredResourcesRatio", "1.0");
        m.put("spark.scheduler.maxRegisteredResourcesWaitingTime", "120s");
        return m;
    }

    /**
     * Prints one JSON line: the round, then the sampled process's memory. In executor mode the
     * measurement runs as a one-task Spark job on the executor (its own JVM measures itself), and
     * the driver's RSS is added as {@code driver_rss_mb}.
     */
    private static void sample(SparkSession spark, boolean executorMode, int round, long t0, RoundSummary s) throws IOException {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("round", round);
        j.put("t_s", (System.nanoTime() - t0) / 1e9);
        j.put("round_s", s == null ? 0.0 : s.seconds());
        j.put("pairs", s == null ? 0L : s.images());
        j.put("attack_task_s", s == null || s.timings() == null ? 0.0 : s.timings().attackSeconds());
        if (executorMode) {
            List<LinkedHashMap<String, Object>> m = JavaSparkContext.fromSparkContext(spark.sparkContext())
                    .parallelize(List.of(0), 1).map(x -> measure()).collect();
            j.putAll(m.get(0));
            j.put("driver_rss_mb", status().getOrDefault("VmRSS", -1L) / 1024.0 / 1024);
        } else {
            j.putAll(measure());
        }
        System.out.println(Machine.json(j));
        System.out.flush();
        System.err.printf(Locale.ROOT, "bench-soak: round %d at %.0f s: RSS %.0f MB, heap used %.0f MB%n", round,
                (System.nanoTime() - t0) / 1e9, (Double) j.get("rss_mb"), (Double) j.get("heap_used_mb"));
    }

    /** This JVM's memory, after a GC (see the class comment for the fields). */
    static LinkedHashMap<String, Object> measure() throws IOException {
        System.gc();
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        long heapUsed = mem.getHeapMemoryUsage().getUsed();
        long heapCommitted = mem.getHeapMemoryUsage().getCommitted();
        long nonHeap = mem.getNonHeapMemoryUsage().getCommitted();
        long buffers = 0;
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            buffers += Math.max(0, b.getMemoryUsed());
        }
        Map<String, Long> status = status();
        long rss = status.getOrDefault("VmRSS", -1L);
        LinkedHashMap<String, Object> j = new LinkedHashMap<>();
        j.put("pid", ProcessHandle.current().pid());
        j.put("malloc_arena_max", String.valueOf(System.getenv("MALLOC_ARENA_MAX")));
        j.put("rss_mb", rss / 1024.0 / 1024);
        j.put("hwm_mb", status.getOrDefault("VmHWM", -1L) / 1024.0 / 1024);
        j.put("heap_used_mb", heapUsed / 1024.0 / 1024);
        j.put("heap_committed_mb", heapCommitted / 1024.0 / 1024);
        j.put("nonheap_committed_mb", nonHeap / 1024.0 / 1024);
        j.put("buffers_mb", buffers / 1024.0 / 1024);
        j.put("native_mb", (rss - heapCommitted - nonHeap - buffers) / 1024.0 / 1024);
        // Which non-heap pool moves: class metadata (Spark's generated classes) or JIT code.
        long meta = 0;
        long code = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() != MemoryType.NON_HEAP) {
                continue;
            }
            long used = p.getUsage().getUsed();
            if (p.getName().startsWith("CodeHeap") || p.getName().equals("Code Cache")) {
                code += used;
            } else {
                meta += used;
            }
        }
        j.put("metaspace_mb", meta / 1024.0 / 1024);
        j.put("codecache_mb", code / 1024.0 / 1024);
        j.put("classes_loaded", ManagementFactory.getClassLoadingMXBean().getLoadedClassCount());
        j.put("classes_unloaded", ManagementFactory.getClassLoadingMXBean().getUnloadedClassCount());
        nativeMemoryTracking(j);
        j.put("jvm_threads", ManagementFactory.getThreadMXBean().getThreadCount());
        j.put("os_threads", status.getOrDefault("Threads", -1L));
        return j;
    }

    private static final Pattern NMT_TOTAL =
            Pattern.compile("^Total: reserved=(\\d+)KB, committed=(\\d+)KB");
    private static final Pattern NMT_CATEGORY =
            Pattern.compile("^-\\s+(.+?) \\(reserved=(\\d+)KB, committed=(\\d+)KB\\)");

    /**
     * With {@code -XX:NativeMemoryTracking=summary} (e.g. {@code jobs/bench-soak --jvm-opts
     * "-XX:NativeMemoryTracking=summary"}): the JVM's own account of its native memory, committed
     * per category (Java Heap, Class, Code, GC, Compiler, Thread, Internal, Symbol, Arena Chunk, ...)
     * as {@code nmt_<category>_mb} and in total as {@code nmt_total_mb}. RSS minus that total is
     * what the JVM did not allocate itself: libtorch's malloc (tensors, modules, OpenMP) and the
     * allocator's fragmentation, which is what "executor native memory does not grow" is about.
     * Without the flag nothing is added.
     */
    private static void nativeMemoryTracking(Map<String, Object> j) {
        String out;
        try {
            ObjectName dcmd = new ObjectName("com.sun.management:type=DiagnosticCommand");
            out = (String) ManagementFactory.getPlatformMBeanServer().invoke(dcmd, "vmNativeMemory",
                    new Object[] {new String[] {"summary", "scale=KB"}}, new String[] {String[].class.getName()});
        } catch (JMException e) {
            return;
        }
        for (String l : out.split("\\R")) {
            Matcher t = NMT_TOTAL.matcher(l.trim());
            if (t.find()) {
                j.put("nmt_total_mb", Long.parseLong(t.group(2)) / 1024.0);
            }
            Matcher c = NMT_CATEGORY.matcher(l.trim());
            if (c.find()) {
                String key = c.group(1).trim().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_");
                j.put("nmt_" + key + "_mb", Long.parseLong(c.group(3)) / 1024.0);
            }
        }
    }

    /** The kB fields of /proc/self/status, in bytes. */
    private static Map<String, Long> status() throws IOException {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            String[] f = l.split(":\\s+");
            if (f.length == 2 && f[1].endsWith(" kB")) {
                m.put(f[0], Long.parseLong(f[1].substring(0, f[1].length() - 3).trim()) * 1024);
            } else if (f.length == 2 && f[0].equals("Threads")) {
                m.put(f[0], Long.parseLong(f[1].trim()));
            }
        }
        return m;
    }
}
