package io.advspark;

import static io.advspark.testing.ClusterRound.SURROGATES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.ClusterRound;
import io.advspark.testing.S3ProxyProcess;
import io.advspark.testing.S3ProxyServer;
import io.advspark.testing.Shared;
import io.advspark.testing.StandaloneCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The round on a real multi-JVM cluster: a Spark standalone Master and two Workers (1 core each),
 * s3proxy, each in its own JVM, and the round ({@link ClusterRound}) submitted through jobs/advspark with
 * {@code --master spark://...} exactly as a user does, writing to {@code s3a://}. Checks that the
 * executors were two JVMs, that each loaded each surrogate exactly once, and that the output
 * (PNG bytes and records) equals a {@code local[2]} run of the same round. Leaves no process
 * and no file behind: everything lives in one unique folder under target/, deleted at the end
 * ({@code -Dclusterit.keep=true} keeps it for a post-mortem).
 */
class ClusterIT {
    private static final Pattern MODEL_LOAD =
            Pattern.compile("advspark model-load: model=(\\S+) device=(\\S+) key=(\\S+) loads-in-this-jvm=(\\d+)");
    static final Pattern EXECUTOR_PID = Pattern.compile("Started daemon with process name: (\\d+)@");

    @Test
    void aRoundOnTwoWorkersWritesTheSameOutputAsLocalSpark() throws Exception {
        Path shared = Shared.root();
        Path target = Path.of("target").toAbsolutePath();
        ClusterRound.inRunDir("cluster-it", dir -> body(shared, target, dir));
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
            ClusterRound.cleanUp(dir, null);
        }
    }

    private static void body(Path shared, Path target, Path dir) throws Exception {
        // 1. The same round on local[2] into a local folder: the reference.
        Path localOut = dir.resolve("local-out");
        Map<String, String> localEnv = Map.of("ADVSPARK_TMP", Files.createDirectories(dir.resolve("local-tmp")).toString());
        ClusterRound.run("ClusterIT", "local[2] run", ClusterRound.command(shared, "local[2]", localOut.toString(), true),
                localEnv, dir.resolve("local.log"));

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
                List<String> cmd = ClusterRound.clusterCommand(shared, cluster, s3.endpoint(), bucket, execTmp, Map.of());
                Map<String, String> env = new LinkedHashMap<>(creds);
                env.put("ADVSPARK_TMP", Files.createDirectories(dir.resolve("driver-tmp")).toString());
                // The dependencies installed on the nodes (docs/operations.md "Shipping the jars"): this machine
                // is both nodes. FaultsIT, ResumeIT and GpuSchedulingIT ship them with --jars.
                env.put("ADVSPARK_LIB_ON_NODES", target.resolve("lib").toString());
                String out = ClusterRound.run("ClusterIT", "cluster run (submit to end)", cmd, env, dir.resolve("submit.log"));
                assertTrue(out.contains("org.apache.spark.deploy.SparkSubmit") && out.contains(cluster.masterUrl()), out);
                // 3a. Separate executor JVMs, each loading each surrogate exactly once.
                List<String> apps = cluster.applications();
                assertEquals(1, apps.size(), "applications on the workers: " + apps);
                Map<String, Path> logs = cluster.executorLogs(apps.get(0));
                Map<String, Long> pids = new TreeMap<>();
                for (Map.Entry<String, Path> e : logs.entrySet()) {
                    String log = new String(Files.readAllBytes(e.getValue()), StandardCharsets.UTF_8);
                    assertTrue(log.lines().findFirst().orElse("").contains(target.resolve("lib").resolve("api-").toString()),
                            "executor " + e.getKey() + ": the nodes' jars are not on its class path: " + e.getValue());
                    assertFalse(log.contains("/jars/pytorch-native-cpu"), "executor " + e.getKey()
                            + " fetched the libtorch jar from the driver although the nodes have it: " + e.getValue());
                    assertTrue(log.contains("/jars/advspark.jar"), "executor " + e.getKey() + " did not fetch advspark.jar");
                    Matcher pm = EXECUTOR_PID.matcher(log);
                    assertTrue(pm.find(), "executor " + e.getKey() + ": no pid in " + e.getValue());
                    pids.put(e.getKey(), Long.parseLong(pm.group(1)));
                    Map<String, List<Integer>> loads = new TreeMap<>();
                    Matcher mm = MODEL_LOAD.matcher(log);
                    while (mm.find()) {
                        loads.computeIfAbsent(mm.group(1), k -> new ArrayList<>()).add(Integer.parseInt(mm.group(4)));
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
                Set<String> ids = ClusterRound.compare("ClusterIT", shared, s3.hadoopConf(), s3.s3aSettings(), bucket, localOut);
                assertEquals(2, ids.size(), "distinct executor_id in the records: " + ids);
                assertEquals(pids.keySet(), ids, "executor_id vs the workers' executor logs");
                System.out.printf(Locale.ROOT, "ClusterIT: comparing the outputs took %.1f s%n", (System.nanoTime() - tc) / 1e9);
                t0 = System.nanoTime();
            }
        }
        System.out.printf(Locale.ROOT, "ClusterIT: stopping the cluster and s3proxy took %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }
}
