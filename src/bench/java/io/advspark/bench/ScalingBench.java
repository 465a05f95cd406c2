package io.advspark.bench;

import io.advspark.testing.ClusterRound;
import io.advspark.testing.JvmDaemon;
import io.advspark.testing.Scripts;
import io.advspark.testing.StandaloneCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Scaling of the CIFAR-10 round on a real Spark standalone cluster on loopback (issue 5, "Scaling
 * benchmark"). {@code jobs/bench-scaling} runs it and formats the table; its header documents the
 * options and what is measured.
 *
 * <p>For each executor count N: a fresh cluster ({@link StandaloneCluster}: one Master and N Workers
 * of 1 core each, every one its own JVM), then {@code REPEAT} rounds submitted through
 * {@code jobs/advspark attack --master spark://...} ({@link Scripts#start}) with 1 libtorch
 * thread per executor, writing to a local folder (file://), the attack starting on the first
 * executor up as in a user's round; then the cluster is stopped by PID and no process naming the run
 * folder may survive ({@link ClusterRound#cleanUp}, the folder is kept for its logs).
 *
 * <p>Per round, one JSON line on stdout: the spark-submit wall time measured here, and what the
 * round's summary prints: its "time" line, the (image, attack) pairs attacked, the task-time
 * breakdown ({@code job/RunMetrics}: read, model load, attack, encode, write) and the executors that
 * did batches. Progress on stderr.
 *
 * <p>Usage: {@code ScalingBench --work DIR [--shared DIR] [--images N] [--configs K] [--executors 1,2]
 * [--repeat R] [--wait-idle S] [--timeout S]} ({@code --help} lists them with their defaults, which
 * are jobs/bench-scaling's).
 */
@Command(name = "ScalingBench",
        description = "Images/s of the CIFAR-10 round on a loopback standalone cluster per executor count; one JSON line"
                + " per round on stdout, progress on stderr (jobs/bench-scaling formats the table).")
public final class ScalingBench extends BenchCommand {
    private static final Pattern TIME = Pattern.compile("(?m)^  time +([0-9.]+) s \\(([0-9.]+) images/s");
    private static final Pattern ATTACKED = Pattern.compile("(?m)^  images +(\\d+) attacked, (\\d+) failed");
    private static final Pattern TASKS = Pattern.compile("(?m)^  task time +([0-9.]+) s summed over tasks: attack ([0-9.]+) s"
            + " \\([0-9]+%\\), read ([0-9.]+) s, model load ([0-9.]+) s, encode ([0-9.]+) s, write ([0-9.]+) s");
    private static final Pattern EXECUTOR = Pattern.compile("(?m)^  executor (\\S+) +(\\d+) images in ([0-9.]+) s of batches"
            + "(?:.*, tasks from ([0-9.]+) s to ([0-9.]+) s of the attack job)?");
    private static final Pattern BEFORE = Pattern.compile(": ([0-9.]+) s before the attack job");

    @Option(names = "--work", paramLabel = "DIR", required = true,
            description = "run folder: one executors-N/ folder per executor count (cluster logs, submit logs, outputs)")
    Path workDir;

    @Option(names = "--shared", paramLabel = "DIR", description = "the shared folder with data/cifar10-300 and models/cifar10")
    Path sharedDir = shared();

    @Option(names = "--images", paramLabel = "N", description = "the first N images of cifar10-300")
    int images = 300;

    @Option(names = "--configs", paramLabel = "K", description = "the conf's attack crossed with K eps values 8, 9, ... (grid.eps)")
    int configs = 12;

    @Option(names = "--executors", paramLabel = "N", split = ",",
            description = "executor counts, each a fresh cluster of that many 1-core Workers")
    List<Integer> executors = new ArrayList<>(List.of(1, 2));

    @Option(names = "--repeat", paramLabel = "R", description = "rounds per executor count")
    int repeat = 1;

    @Option(names = "--wait-idle", paramLabel = "S",
            description = "before each round wait up to S seconds for other processes to use < 15 %% of the machine; 0: do not wait")
    int waitIdle = 600;

    @Option(names = "--timeout", paramLabel = "S", description = "a round that takes longer fails the benchmark")
    int timeout = 1800;

    public static void main(String[] args) {
        BenchCommand.main(new ScalingBench(), args);
    }

    @Override
    protected void run() throws Exception {
        Path work = Files.createDirectories(workDir.toAbsolutePath());
        Path shared = sharedDir.toAbsolutePath();
        Path target = Path.of("target").toAbsolutePath();
        Path sparkHome = StandaloneCluster.sparkHome(target);
        System.setProperty("clusterit.keep", "true"); // cleanUp keeps the logs; the script deletes the outputs

        for (int n : executors) {
            Path dir = Files.createDirectories(work.resolve("executors-" + n));
            Throwable failure = null;
            try {
                long t0 = System.nanoTime();
                StandaloneCluster.Options o = new StandaloneCluster.Options(sparkHome, dir.resolve("cluster"), n, 1, "1536m", Map.of());
                try (StandaloneCluster cluster = StandaloneCluster.start(o)) {
                    double up = (System.nanoTime() - t0) / 1e9;
                    System.err.printf(Locale.ROOT, "bench-scaling: master and %d worker(s) up in %.1f s (%s, pids %s)%n",
                            n, up, cluster.masterUrl(), cluster.pids());
                    for (int r = 1; r <= repeat; r++) {
                        runOne(shared, dir, cluster, n, r, images, configs, up, waitIdle, timeout);
                    }
                }
            } catch (Throwable t) {
                failure = t;
                throw t;
            } finally {
                ClusterRound.cleanUp(dir, failure);
            }
        }
    }

    private static void runOne(Path shared, Path dir, StandaloneCluster cluster, int n, int rep, int images, int configs,
            double clusterUp, int waitIdle, int timeout) throws Exception {
        String roundId = "scaling-e" + n + "-r" + rep;
        Path out = dir.resolve("out");
        Path log = dir.resolve(roundId + ".log");
        Path driverTmp = Files.createDirectories(dir.resolve("driver-tmp"));
        Path execTmp = Files.createDirectories(dir.resolve("executor-tmp"));
        List<String> cmd = command(shared, cluster.masterUrl(), out, roundId, images, configs);
        cmd.addAll(ClusterRound.sparkConf("spark.executor.memory", "1g"));
        // No waiting for all executors: as for a user, the attack starts on the first one up and the
        // others join; each executor's first task shows its start-up.
        cmd.addAll(ClusterRound.sparkConf("spark.executor.extraJavaOptions", "-Djava.io.tmpdir=" + execTmp));
        Machine.waitIdle(waitIdle, "bench-scaling");
        String load0 = Machine.loadavg();
        System.err.printf(Locale.ROOT, "bench-scaling: [%d executor(s), run %d] load %s: %s%n", n, rep, load0,
                String.join(" ", cmd));
        double busy0 = Machine.busySeconds();
        long t0 = System.nanoTime();
        Process p = Scripts.start(cmd, Map.of("ADVSPARK_TMP", driverTmp.toString()), log);
        boolean done;
        try {
            done = p.waitFor(timeout, TimeUnit.SECONDS);
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        double busy = Machine.busySeconds() - busy0;
        String text = ClusterRound.read(log);
        if (!done || p.exitValue() != 0) {
            throw new IllegalStateException("round " + roundId + (done ? " failed (exit " + p.exitValue() + ")" : " timed out after "
                    + timeout + " s") + "; " + log + " ends:\n" + JvmDaemon.tail(text, 60));
        }
        Matcher time = find(TIME, text, log);
        Matcher attacked = find(ATTACKED, text, log);
        Matcher tasks = find(TASKS, text, log);
        Matcher before = BEFORE.matcher(text);
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("executors", n);
        j.put("run", rep);
        j.put("round_id", roundId);
        j.put("pairs", Long.parseLong(attacked.group(1)));
        j.put("failed", Long.parseLong(attacked.group(2)));
        j.put("submit_wall_s", wall);
        j.put("round_s", Double.parseDouble(time.group(1)));
        j.put("round_images_per_s", Double.parseDouble(time.group(2)));
        j.put("task_s", Double.parseDouble(tasks.group(1)));
        j.put("attack_s", Double.parseDouble(tasks.group(2)));
        j.put("read_s", Double.parseDouble(tasks.group(3)));
        j.put("model_s", Double.parseDouble(tasks.group(4)));
        j.put("encode_s", Double.parseDouble(tasks.group(5)));
        j.put("write_s", Double.parseDouble(tasks.group(6)));
        j.put("before_job_s", before.find() ? Double.parseDouble(before.group(1)) : -1.0);
        Matcher ex = EXECUTOR.matcher(text);
        List<String> execs = new ArrayList<>();
        List<Map<String, Object>> windows = new ArrayList<>();
        while (ex.find()) {
            execs.add(ex.group(1) + ":" + ex.group(2) + "@" + ex.group(3) + "s");
            if (ex.group(4) != null) {
                Map<String, Object> w = new LinkedHashMap<>();
                w.put("id", ex.group(1));
                w.put("busy_s", Double.parseDouble(ex.group(3)));
                w.put("first_task_s", Double.parseDouble(ex.group(4)));
                w.put("last_end_s", Double.parseDouble(ex.group(5)));
                windows.add(w);
            }
        }
        j.put("executors_seen", execs);
        j.put("executor_windows", windows);
        j.put("jars", System.getenv("ADVSPARK_LIB_ON_NODES") == null ? "shipped (--jars)" : "on the nodes");
        j.put("cluster_up_s", clusterUp);
        j.put("machine_busy_share", busy / (wall * Runtime.getRuntime().availableProcessors()));
        j.put("load_before", load0);
        j.put("load_after", Machine.loadavg());
        j.put("log", log.toString());
        j.put("command", String.join(" ", cmd));
        System.out.println(Machine.json(j));
        System.out.flush();
        System.err.printf(Locale.ROOT, "bench-scaling: [%d executor(s), run %d] submit %.1f s, round %s s, %s pairs, executors %s%n",
                n, rep, wall, time.group(1), attacked.group(1), execs);
    }

    /**
     * The CIFAR-10 round (conf/cifar10-resnets.conf, surrogates resnet20 + resnet32) on
     * {@code master}: the first {@code images} images, the conf's attack crossed with
     * {@code configs} eps values (8, 9, ...; same cost each), 1 libtorch thread, no evaluation.
     */
    static List<String> command(Path shared, String master, Path out, String roundId, int images, int configs) {
        Path cifar = shared.resolve("models/cifar10");
        StringBuilder eps = new StringBuilder();
        for (int i = 0; i < configs; i++) {
            eps.append(i == 0 ? "" : ", ").append(8 + i);
        }
        return new ArrayList<>(List.of("jobs/advspark", "attack", "-c", "conf/cifar10-resnets.conf", "--no-evaluate",
                "--master", master,
                "--set", "round.output=\"file://" + out + "\"", "--set", "round.id=" + roundId,
                "--set", "dataset.uri=\"" + shared.resolve("data/cifar10-300") + "\"",
                "--set", "models=[{path=\"" + cifar.resolve("resnet20.pt") + "\", role=surrogate},"
                        + " {path=\"" + cifar.resolve("resnet32.pt") + "\", role=surrogate}]",
                "--set", "dataset.limit=" + images, "--set", "threads=1", "--set", "grid.eps=[" + eps + "]"));
    }

    private static Matcher find(Pattern p, String text, Path log) {
        Matcher m = p.matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("no line /" + p + "/ in " + log + "; it ends:\n" + JvmDaemon.tail(text, 40));
        }
        return m;
    }
}
