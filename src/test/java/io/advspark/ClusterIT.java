package io.advspark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.JvmDaemon;
import io.advspark.testing.S3ProxyProcess;
import io.advspark.testing.S3ProxyServer;
import io.advspark.testing.Shared;
import io.advspark.testing.StandaloneCluster;
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
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * The round on a real multi-JVM cluster: a Spark standalone Master and two Workers (1 core each),
 * s3proxy, each in its own JVM, and the round submitted through jobs/advspark with
 * {@code --master spark://...} exactly as a user does, writing to {@code s3a://}. Checks that the
 * executors were two JVMs, that each loaded each surrogate exactly once, and that the output
 * (PNG bytes and records) equals a {@code local[2]} run of the same round. Leaves no process
 * and no file behind: everything lives in one unique folder under target/, deleted at the end
 * ({@code -Dclusterit.keep=true} keeps it for a post-mortem).
 */
class ClusterIT {
    private static final int IMAGES = 48;
    private static final List<String> ATTACKS = List.of("mi-eps8", "mi-di-eps8", "mi-di-ti-eps8");
    private static final List<String> SURROGATES = List.of("resnet20", "resnet32");
    private static final String ROUND_ID = "cluster-it";
    private static final Pattern MODEL_LOAD =
            Pattern.compile("advspark model-load: model=(\\S+) key=(\\S+) loads-in-this-jvm=(\\d+)");
    private static final Pattern EXECUTOR_PID = Pattern.compile("Started daemon with process name: (\\d+)@");

    /** The round: the ablation's 3 configs at eps 8, 48 CIFAR-10 images, in 6 tasks of one batch each per config. */
    private static List<String> round(Path shared, String master, String output, boolean noEvaluate) {
        Path cifar = shared.resolve("models/cifar10");
        List<String> cmd = new ArrayList<>(List.of("jobs/advspark", "attack", "-c", "conf/cifar10-ablation.conf",
                "--master", master,
                "--set", "round.output=\"" + output + "\"", "--set", "round.id=" + ROUND_ID,
                "--set", "dataset.uri=\"" + shared.resolve("data/cifar10-300") + "\"",
                "--set", "models=[{path=\"" + cifar.resolve("resnet20.pt") + "\", role=surrogate},"
                        + " {path=\"" + cifar.resolve("resnet32.pt") + "\", role=surrogate}]",
                "--set", "dataset.limit=" + IMAGES, "--set", "threads=1", "--set", "grid.eps=[8]",
                "--set", "batch-size=8", "--set", "dataset.partitions=6"));
        if (noEvaluate) {
            cmd.add("--no-evaluate");
        }
        return cmd;
    }

    private static List<String> sparkConf(String key, String value) {
        return List.of("--set", "spark.conf.\"" + key + "\"=\"" + value + "\"");
    }

    private static String run(String what, List<String> cmd, Map<String, String> env, Path log) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().remove("SPARK_HOME"); // the launcher then uses the build's Spark jars
        pb.environment().putAll(env);
        long t0 = System.nanoTime();
        Process p = pb.start();
        try {
            if (!p.waitFor(600, TimeUnit.SECONDS)) {
                throw new AssertionError(what + " timed out; its log ends:\n" + JvmDaemon.tail(new String(Files.readAllBytes(log), StandardCharsets.UTF_8), 60));
            }
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
        String out = new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
        System.out.printf(Locale.ROOT, "ClusterIT: %s took %.1f s%n", what, (System.nanoTime() - t0) / 1e9);
        assertEquals(0, p.exitValue(), what + " failed; its log ends:\n" + JvmDaemon.tail(out, 80));
        assertTrue(out.contains(3 * IMAGES + " attacked, 0 failed"), what + ":\n" + JvmDaemon.tail(out, 40));
        return out;
    }

    @Test
    void aRoundOnTwoWorkersWritesTheSameOutputAsLocalSpark() throws Exception {
        Path shared = Shared.root();
        Path target = Path.of("target").toAbsolutePath();
        String unique = "cluster-it-" + Long.toHexString(System.nanoTime()) + "-" + ProcessHandle.current().pid();
        Path dir = Files.createDirectories(target.resolve("cluster-it").resolve(unique));
        Throwable failure = null;
        try {
            body(shared, target, dir);
        } catch (Throwable t) {
            failure = t;
            throw t;
        } finally {
            cleanUp(dir, failure);
        }
    }

    @Test
    void aTakenMasterPortFailsTheStartInsteadOfMovingOn() throws Exception {
        Path target = Path.of("target").toAbsolutePath();
        Path dir = target.resolve("cluster-it").resolve("port-" + Long.toHexString(System.nanoTime()));
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            StandaloneCluster.Options o = new StandaloneCluster.Options(StandaloneCluster.sparkHome(target), dir, 1, 1,
                    "512m", Map.of()).withMasterPort(taken.getLocalPort());
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> StandaloneCluster.start(o).close());
            assertTrue(e.getMessage().contains("127.0.0.1:" + taken.getLocalPort() + " is in use"), e.getMessage());
        } finally {
            cleanUp(dir, null);
        }
    }

    private static void body(Path shared, Path target, Path dir) throws Exception {
        // 1. The same round on local[2] into a local folder: the reference.
        Path localOut = dir.resolve("local-out");
        Map<String, String> localEnv = Map.of("ADVSPARK_TMP", Files.createDirectories(dir.resolve("local-tmp")).toString());
        run("local[2] run", round(shared, "local[2]", localOut.toString(), true), localEnv, dir.resolve("local.log"));

        long t0 = System.nanoTime();
        String bucket = S3ProxyServer.randomBucket("cluster-it");
        try (S3ProxyProcess s3 = S3ProxyProcess.start(dir.resolve("s3proxy"), bucket)) {
            // What a node's credential provider supplies: executors do not see the submitting
            // shell's environment, so the Workers (and through them the executors) get it.
            Map<String, String> creds = Map.of("AWS_ACCESS_KEY_ID", s3.accessKey(), "AWS_SECRET_ACCESS_KEY", s3.secretKey());
            StandaloneCluster.Options opts = new StandaloneCluster.Options(StandaloneCluster.sparkHome(target),
                    dir.resolve("cluster"), 2, 1, "1536m", creds);
            try (StandaloneCluster cluster = StandaloneCluster.start(opts)) {
                System.out.printf(Locale.ROOT, "ClusterIT: s3proxy, master and 2 workers up in %.1f s (%s, pids %s, s3proxy %d)%n",
                        (System.nanoTime() - t0) / 1e9, cluster.masterUrl(), cluster.pids(), s3.pid());

                // 2. The user's command, against the cluster and s3a://.
                Path execTmp = Files.createDirectories(dir.resolve("executor-tmp"));
                List<String> cmd = round(shared, cluster.masterUrl(), "s3a://" + bucket + "/rounds", true);
                for (Map.Entry<String, String> e : Map.of(
                        "fs.s3a.endpoint", s3.endpoint(),
                        "fs.s3a.endpoint.region", S3ProxyServer.REGION,
                        "fs.s3a.path.style.access", "true",
                        "fs.s3a.connection.ssl.enabled", "false",
                        "fs.s3a.directory.marker.retention", "keep",
                        "fs.s3a.aws.credentials.provider", "com.amazonaws.auth.EnvironmentVariableCredentialsProvider")
                        .entrySet()) {
                    cmd.addAll(sparkConf("spark.hadoop." + e.getKey(), e.getValue()));
                }
                cmd.addAll(sparkConf("spark.executor.memory", "1g"));
                // Start the attack only when both executors are up, so that both get tasks.
                cmd.addAll(sparkConf("spark.scheduler.minRegisteredResourcesRatio", "1.0"));
                cmd.addAll(sparkConf("spark.scheduler.maxRegisteredResourcesWaitingTime", "120s"));
                cmd.addAll(sparkConf("spark.executor.extraJavaOptions", "-Djava.io.tmpdir=" + execTmp));
                Map<String, String> env = new LinkedHashMap<>(creds);
                env.put("ADVSPARK_TMP", Files.createDirectories(dir.resolve("driver-tmp")).toString());
                String out = run("cluster run (submit to end)", cmd, env, dir.resolve("submit.log"));
                assertTrue(out.contains("org.apache.spark.deploy.SparkSubmit") && out.contains(cluster.masterUrl()), out);

                // 3a. Separate executor JVMs, each loading each surrogate exactly once.
                List<String> apps = cluster.applications();
                assertEquals(1, apps.size(), "applications on the workers: " + apps);
                Map<String, Path> logs = cluster.executorLogs(apps.get(0));
                Map<String, Long> pids = new TreeMap<>();
                for (Map.Entry<String, Path> e : logs.entrySet()) {
                    String log = new String(Files.readAllBytes(e.getValue()), StandardCharsets.UTF_8);
                    Matcher pm = EXECUTOR_PID.matcher(log);
                    assertTrue(pm.find(), "executor " + e.getKey() + ": no pid in " + e.getValue());
                    pids.put(e.getKey(), Long.parseLong(pm.group(1)));
                    Map<String, List<Integer>> loads = new TreeMap<>();
                    Matcher mm = MODEL_LOAD.matcher(log);
                    while (mm.find()) {
                        loads.computeIfAbsent(mm.group(1), k -> new ArrayList<>()).add(Integer.parseInt(mm.group(3)));
                    }
                    Map<String, List<Integer>> once = new TreeMap<>();
                    SURROGATES.forEach(m -> once.put(m, List.of(1)));
                    assertEquals(once, loads, "executor " + e.getKey() + " (" + e.getValue() + "): model loads");
                    assertFalse(log.contains("loads-in-this-jvm=2"), "executor " + e.getKey() + " reloaded a model");
                }
                System.out.println("ClusterIT: executors (id -> pid) " + pids + ", logs " + logs.values());
                assertEquals(2, pids.size(), "executors of the round: " + logs);
                assertEquals(2, new HashSet<>(pids.values()).size(), "executor pids: " + pids);
                for (long pid : pids.values()) {
                    assertNotEquals(ProcessHandle.current().pid(), pid);
                    assertFalse(cluster.pids().contains(pid), "an executor ran inside a daemon: " + pids);
                }

                // 3b. Outputs equal the local run's.
                long tc = System.nanoTime();
                compare(s3, bucket, localOut, pids.keySet());
                System.out.printf(Locale.ROOT, "ClusterIT: comparing the outputs took %.1f s%n", (System.nanoTime() - tc) / 1e9);
                t0 = System.nanoTime();
            }
        }
        System.out.printf(Locale.ROOT, "ClusterIT: stopping the cluster and s3proxy took %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    private static void compare(S3ProxyProcess s3, String bucket, Path localOut, Set<String> executorIds) throws Exception {
        String roundUri = "s3a://" + bucket + "/rounds/" + ROUND_ID;
        Path localRound = localOut.resolve(ROUND_ID);
        try (FileSystem fs = FileSystem.newInstance(URI.create("s3a://" + bucket + "/"), s3.hadoopConf())) {
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
                    assertArrayEquals(Files.readAllBytes(localRound.resolve("images").resolve(attack).resolve(id)),
                            remote.get(id), attack + "/" + id + ": cluster PNG differs from the local[2] one");
                }
            }
        }

        SparkSession.Builder b = SparkSession.builder().master("local[1]").appName("cluster-it-check")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false");
        s3.s3aSettings().forEach(b::config);
        SparkSession spark = b.getOrCreate();
        try {
            String cols = "attack, image_id, adv_pred, linf, l2";
            List<Row> remote = spark.read().parquet(roundUri + "/records").selectExpr(cols.split(", "))
                    .orderBy("attack", "image_id").collectAsList();
            List<Row> local = spark.read().parquet(localRound.resolve("records").toString()).selectExpr(cols.split(", "))
                    .orderBy("attack", "image_id").collectAsList();
            assertEquals(ATTACKS.size() * IMAGES, remote.size(), "records on s3a");
            assertEquals(local.size(), remote.size(), "records");
            for (int i = 0; i < local.size(); i++) {
                assertEquals(local.get(i).toString(), remote.get(i).toString(), "record " + i + " (" + cols + ")");
            }
            List<Row> byExecutor = spark.read().parquet(roundUri + "/records")
                    .groupBy("executor_id").count().orderBy("executor_id").collectAsList();
            System.out.println("ClusterIT: records by executor_id " + byExecutor);
            Set<String> ids = new java.util.TreeSet<>();
            byExecutor.forEach(r -> ids.add(r.getString(0)));
            assertEquals(2, ids.size(), "distinct executor_id in the records: " + byExecutor);
            assertEquals(new java.util.TreeSet<>(executorIds), ids, "executor_id vs the workers' executor logs");
            assertEquals(0L, spark.read().parquet(roundUri + "/records").where("error is not null").count(), "error rows");
        } finally {
            spark.stop();
        }
    }

    /**
     * No process of the run may outlive it (anything whose command line names the run's folder is
     * one: daemons, executors, drivers, s3proxy), and the folder goes.
     */
    private static void cleanUp(Path dir, Throwable failure) throws IOException {
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

    private static void dumpLogs(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".log") || p.getFileName().toString().equals("stderr")).toList()) {
                System.out.println("==== " + p + " (last lines)");
                System.out.println(JvmDaemon.tail(new String(Files.readAllBytes(p), StandardCharsets.UTF_8), 60));
            }
        } catch (IOException e) {
            System.out.println("cannot list " + dir + ": " + e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
