package io.advspark.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.score.Perturbation;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The round that the real-cluster tests (ClusterIT, FaultsIT) submit, and their shared checks:
 * the 3-config CIFAR-10 ablation at eps 8 on 48 {@code ../shared} images in 6 tasks of one batch
 * of 8 each per config, the {@code jobs/advspark} command for a cluster writing to {@code s3a://},
 * running it, comparing its output with a {@code local[2]} run of the same round id, and cleaning
 * up a run folder (no process naming it may survive).
 */
public final class ClusterRound {
    public static final int IMAGES = 48;
    public static final int BATCH = 8;
    public static final int EPS = 8;
    public static final List<String> ATTACKS = List.of("mi-eps8", "mi-di-eps8", "mi-di-ti-eps8");
    public static final List<String> SURROGATES = List.of("resnet20", "resnet32");
    public static final String ROUND_ID = "cluster-it";
    /** Record files of the whole round: one per (attack, batch). */
    public static final int RECORD_FILES = ATTACKS.size() * IMAGES / BATCH;

    private ClusterRound() {}

    /** The round's command on {@code master}, writing under {@code output}. */
    public static List<String> command(Path shared, String master, String output, boolean noEvaluate) {
        Path cifar = shared.resolve("models/cifar10");
        List<String> cmd = new ArrayList<>(List.of("jobs/advspark", "attack", "-c", "conf/cifar10-ablation.conf",
                "--master", master,
                "--set", "round.output=\"" + output + "\"", "--set", "round.id=" + ROUND_ID,
                "--set", "dataset.uri=\"" + shared.resolve("data/cifar10-300") + "\"",
                "--set", "models=[{path=\"" + cifar.resolve("resnet20.pt") + "\", role=surrogate},"
                        + " {path=\"" + cifar.resolve("resnet32.pt") + "\", role=surrogate}]",
                "--set", "dataset.limit=" + IMAGES, "--set", "threads=1", "--set", "grid.eps=[" + EPS + "]",
                "--set", "batch-size=" + BATCH, "--set", "dataset.partitions=6"));
        if (noEvaluate) {
            cmd.add("--no-evaluate");
        }
        return cmd;
    }

    public static List<String> sparkConf(String key, String value) {
        return List.of("--set", "spark.conf.\"" + key + "\"=\"" + value + "\"");
    }

    /**
     * The round on {@code cluster}, writing to {@code s3a://bucket/rounds} through
     * {@code endpoint} (s3proxy, or a proxy in front of it), credentials from the executors'
     * environment, starting only when both executors are registered.
     */
    public static List<String> clusterCommand(Path shared, StandaloneCluster cluster, String endpoint, String bucket,
            Path executorTmp, Map<String, String> moreConf) {
        List<String> cmd = command(shared, cluster.masterUrl(), "s3a://" + bucket + "/rounds", true);
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("fs.s3a.endpoint", endpoint);
        conf.put("fs.s3a.endpoint.region", S3ProxyServer.REGION);
        conf.put("fs.s3a.path.style.access", "true");
        conf.put("fs.s3a.connection.ssl.enabled", "false");
        conf.put("fs.s3a.directory.marker.retention", "keep");
        conf.put("fs.s3a.aws.credentials.provider", "com.amazonaws.auth.EnvironmentVariableCredentialsProvider");
        conf.forEach((k, v) -> cmd.addAll(sparkConf("spark.hadoop." + k, v)));
        cmd.addAll(sparkConf("spark.executor.memory", "1g"));
        // Start the attack only when both executors are up, so that both get tasks. The ratio counts
        // against spark.cores.max: without it, a standalone application expects no cores and never waits.
        cmd.addAll(sparkConf("spark.cores.max", "2"));
        cmd.addAll(sparkConf("spark.scheduler.minRegisteredResourcesRatio", "1.0"));
        cmd.addAll(sparkConf("spark.scheduler.maxRegisteredResourcesWaitingTime", "120s"));
        cmd.addAll(sparkConf("spark.executor.extraJavaOptions", "-Djava.io.tmpdir=" + executorTmp));
        moreConf.forEach((k, v) -> cmd.addAll(sparkConf(k, v)));
        return cmd;
    }

    /**
     * Waits for a started round (up to 600 s), prints how long it took since {@code t0}, and
     * asserts that it exited 0 having attacked every (image, attack). Returns its output.
     */
    public static String finish(String tag, String what, Process p, Path log, long t0) throws Exception {
        return check(what, await(tag, what, p, log, t0), log);
    }

    /** Asserts that a round that ended with {@code exit} succeeded and attacked every (image, attack); returns its output. */
    public static String check(String what, int exit, Path log) throws IOException {
        String out = read(log);
        assertEquals(0, exit, what + " failed; its log ends:\n" + JvmDaemon.tail(out, 80));
        assertTrue(out.contains(ATTACKS.size() * IMAGES + " attacked, 0 failed"), what + ":\n" + JvmDaemon.tail(out, 40));
        return out;
    }

    /** Waits for a started round (up to 600 s), prints how long it took since {@code t0}, returns its exit code. */
    public static int await(String tag, String what, Process p, Path log, long t0) throws Exception {
        try {
            if (!p.waitFor(600, TimeUnit.SECONDS)) {
                throw new AssertionError(what + " timed out; its log ends:\n" + JvmDaemon.tail(read(log), 60));
            }
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
        System.out.printf(Locale.ROOT, "%s: %s took %.1f s (exit %d)%n", tag, what, (System.nanoTime() - t0) / 1e9, p.exitValue());
        return p.exitValue();
    }

    /** Runs {@code cmd} to its end: {@link Scripts#start} then {@link #finish}. */
    public static String run(String tag, String what, List<String> cmd, Map<String, String> env, Path log) throws Exception {
        long t0 = System.nanoTime();
        return finish(tag, what, Scripts.start(cmd, env, log), log, t0);
    }

    public static String read(Path p) throws IOException {
        return Files.exists(p) ? new String(Files.readAllBytes(p), StandardCharsets.UTF_8) : "";
    }

    /** {@code s3a://bucket/rounds/<round id>} */
    public static String roundUri(String bucket) {
        return "s3a://" + bucket + "/rounds/" + ROUND_ID;
    }

    /** Committed record files ({@code records/attack=*}{@code /part-*.parquet}) in the store right now. */
    public static int committedRecordFiles(FileSystem fs, String bucket) throws IOException {
        org.apache.hadoop.fs.Path records = new org.apache.hadoop.fs.Path(roundUri(bucket) + "/records");
        if (!fs.exists(records)) {
            return 0;
        }
        FileStatus[] st = fs.globStatus(new org.apache.hadoop.fs.Path(records, "attack=*/part-*.parquet"));
        return st == null ? 0 : st.length;
    }

    /** Every object name under the round, relative to it. */
    public static List<String> objects(FileSystem fs, String bucket) throws IOException {
        String root = roundUri(bucket);
        List<String> out = new ArrayList<>();
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(new org.apache.hadoop.fs.Path(root), true);
        while (it.hasNext()) {
            String p = it.next().getPath().toString();
            out.add(p.substring(p.indexOf(ROUND_ID) + ROUND_ID.length() + 1));
        }
        return out;
    }

    /**
     * The round's output in {@code s3a://bucket/rounds} equals the local run's in {@code localOut}:
     * every attack has exactly the local PNG names with the same bytes, every PNG decodes and is
     * within eps of its clean image, no temporary or hidden object is left, and the records
     * ({@code attack, image_id, adv_pred, linf, l2}) hold exactly one row per (attack, image),
     * equal to the local ones, none an error. Returns the distinct {@code executor_id} of the records.
     */
    public static Set<String> compare(String tag, Path shared, Configuration storeConf, Map<String, String> sparkS3a,
            String bucket, Path localOut) throws Exception {
        String roundUri = roundUri(bucket);
        Path localRound = localOut.resolve(ROUND_ID);
        Path clean = shared.resolve("data/cifar10-300/images");
        try (FileSystem fs = FileSystem.newInstance(URI.create("s3a://" + bucket + "/"), storeConf)) {
            for (String name : objects(fs, bucket)) {
                String base = name.substring(name.lastIndexOf('/') + 1);
                assertFalse(base.startsWith(".") || base.contains("_tmp"), "temporary or hidden object left: " + name);
            }
            for (String attack : ATTACKS) {
                Map<String, byte[]> remote = new TreeMap<>();
                for (FileStatus st : fs.listStatus(new org.apache.hadoop.fs.Path(roundUri + "/images/" + attack))) {
                    try (FSDataInputStream in = fs.open(st.getPath())) {
                        remote.put(st.getPath().getName(), in.readAllBytes());
                    }
                }
                List<String> local;
                try (Stream<Path> s = Files.list(localRound.resolve("images").resolve(attack))) {
                    local = s.map(p -> p.getFileName().toString()).sorted().toList();
                }
                assertEquals(IMAGES, remote.size(), attack + ": PNGs on s3a " + remote.keySet());
                assertEquals(local, List.copyOf(remote.keySet()), attack + ": PNG names");
                for (String id : local) {
                    byte[] png = remote.get(id);
                    RgbImage adv = Png.decode(png, attack + "/" + id);
                    RgbImage orig = Png.decode(Files.readAllBytes(clean.resolve(id)), id);
                    assertTrue(Perturbation.between(orig, adv).linf() <= EPS, attack + "/" + id + " exceeds eps");
                    assertArrayEquals(Files.readAllBytes(localRound.resolve("images").resolve(attack).resolve(id)),
                            png, attack + "/" + id + ": cluster PNG differs from the local[2] one");
                }
            }
        }

        SparkSession.Builder b = SparkSession.builder().master("local[1]").appName("cluster-round-check")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false");
        sparkS3a.forEach(b::config);
        SparkSession spark = b.getOrCreate();
        try {
            String cols = "attack, image_id, adv_pred, linf, l2";
            List<Row> remote = spark.read().parquet(roundUri + "/records").selectExpr(cols.split(", "))
                    .orderBy("attack", "image_id").collectAsList();
            List<Row> local = spark.read().parquet(localRound.resolve("records").toString()).selectExpr(cols.split(", "))
                    .orderBy("attack", "image_id").collectAsList();
            Set<String> keys = new HashSet<>();
            for (Row r : remote) {
                assertTrue(keys.add(r.getString(0) + "/" + r.getString(1)), "duplicate record " + r);
            }
            assertEquals(ATTACKS.size() * IMAGES, remote.size(), "records on s3a");
            assertEquals(local.size(), remote.size(), "records");
            for (int i = 0; i < local.size(); i++) {
                assertEquals(local.get(i).toString(), remote.get(i).toString(), "record " + i + " (" + cols + ")");
            }
            List<Row> byExecutor = spark.read().parquet(roundUri + "/records")
                    .groupBy("executor_id").count().orderBy("executor_id").collectAsList();
            System.out.println(tag + ": records by executor_id " + byExecutor);
            assertEquals(0L, spark.read().parquet(roundUri + "/records").where("error is not null").count(), "error rows");
            Set<String> ids = new TreeSet<>();
            byExecutor.forEach(r -> ids.add(r.getString(0)));
            return ids;
        } finally {
            spark.stop();
        }
    }

    /** A new unique run folder {@code target/cluster-it/<prefix>-<unique>}. */
    /** A body that may throw anything, run by {@link #inRunDir}. */
    @FunctionalInterface
    public interface DirBody {
        void run(Path dir) throws Exception;
    }

    /**
     * Runs {@code body} in a fresh {@link #runDir}, then {@link #cleanUp}s it: every process of the
     * run is stopped, the folder deleted (kept, with logs dumped, when the body failed).
     */
    public static void inRunDir(String prefix, DirBody body) throws Exception {
        Path dir = runDir(prefix);
        Throwable failure = null;
        try {
            body.run(dir);
        } catch (Exception | Error t) {
            failure = t;
            throw t;
        } finally {
            cleanUp(dir, failure);
        }
    }

    public static Path runDir(String prefix) throws IOException {
        String unique = prefix + "-" + Long.toHexString(System.nanoTime()) + "-" + ProcessHandle.current().pid();
        return Files.createDirectories(Path.of("target").toAbsolutePath().resolve("cluster-it").resolve(unique));
    }

    /**
     * No process of the run may outlive it (anything whose command line names the run's folder is
     * one: daemons, executors, drivers, s3proxy), and the folder goes ({@code -Dclusterit.keep=true}
     * keeps it). On a failure the logs' tails are printed first.
     */
    public static void cleanUp(Path dir, Throwable failure) throws IOException {
        String needle = dir.toString();
        List<String> left = List.of();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            left = JvmDaemon.processesMentioning(needle);
            if (left.isEmpty()) {
                break;
            }
            sleep(500);
        }
        if (!left.isEmpty()) {
            // Stop them by PID so that nothing stays behind, then report.
            for (String l : left) {
                ProcessHandle.of(Long.parseLong(l.substring(0, l.indexOf(':')))).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        if (failure != null) {
            dumpLogs(dir);
        }
        boolean keep = Boolean.getBoolean("clusterit.keep");
        if (!keep) {
            deleteTree(dir);
            Path parent = dir.getParent();
            if (Files.isDirectory(parent)) {
                try (Stream<Path> s = Files.list(parent)) {
                    if (s.findAny().isEmpty()) {
                        Files.delete(parent);
                    }
                }
            }
        }
        AssertionError err = null;
        if (!left.isEmpty()) {
            err = new AssertionError("processes of the run left behind (killed now): " + left);
        } else if (!keep && Files.exists(dir)) {
            err = new AssertionError(dir + " not removed");
        }
        if (err != null) {
            if (failure != null) {
                failure.addSuppressed(err);
            } else {
                throw err;
            }
        }
    }

    public static void dumpLogs(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".log") || p.getFileName().toString().equals("stderr")).toList()) {
                System.out.println("==== " + p + " (last lines)");
                System.out.println(JvmDaemon.tail(read(p), 60));
            }
        } catch (IOException e) {
            System.out.println("cannot list " + dir + ": " + e);
        }
    }

    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    public static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
