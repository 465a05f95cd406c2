package io.advspark;

import static io.advspark.testing.ClusterRound.RECORD_FILES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.ClusterRound;
import io.advspark.testing.JvmDaemon;
import io.advspark.testing.PausableTcpProxy;
import io.advspark.testing.Report;
import io.advspark.testing.S3ProxyProcess;
import io.advspark.testing.S3ProxyServer;
import io.advspark.testing.Scripts;
import io.advspark.testing.Shared;
import io.advspark.testing.StandaloneCluster;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The cluster issue's fault tests: the round of {@link ClusterRound} on a real standalone cluster
 * (Master + 2 Workers + s3proxy, each its own JVM), submitted through jobs/advspark to
 * {@code s3a://}, with a fault injected once some batches are committed but not all:
 * <ul>
 *   <li>an executor JVM is killed with SIGKILL;
 *   <li>the object store is unreachable for 5 s (a pausable TCP proxy in this JVM between the
 *       cluster and s3proxy: s3proxy's store is in memory, so restarting its JVM would lose the
 *       objects and test nothing).
 * </ul>
 * Either way the round must exit 0 and its output must equal a {@code local[2]} run of the same
 * round id (shared by the tests): exactly one PNG and one record row per (attack, image), every PNG
 * within eps, no temporary object left.
 */
class FaultsIT {
    private static final String TAG = "FaultsIT";
    private static final Pattern EXECUTOR_PID = ClusterIT.EXECUTOR_PID;
    /** Record files committed before the fault (of {@link ClusterRound#RECORD_FILES}). */
    private static final int COMMITTED_BEFORE_FAULT = 2;
    private static final long OUTAGE_SECONDS = 5;
    private static final Pattern RETRY_LINE = Pattern.compile("(?i)retry|retrying|connection refused|connection reset|Lost task");
    /**
     * S3A client retries that ride out the outage (see docs/testing.md): the
     * AWS SDK retries each request {@code attempts.maximum} times with a short backoff, then S3A
     * retries the failed (idempotent) call {@code retry.limit} times with exponential backoff from
     * {@code retry.interval} (each sleep interval * 2^n * [0.5, 1.5)): at least
     * 0.25+0.5+1+2+4 s = 7.75 s over the first five retries, more than the outage.
     */
    static final Map<String, String> SURVIVING_RETRIES = Map.of(
            "spark.hadoop.fs.s3a.attempts.maximum", "3",
            "spark.hadoop.fs.s3a.retry.limit", "7",
            "spark.hadoop.fs.s3a.retry.interval", "500ms");

    /** Retries that give up within about a second: a write during the outage fails its task. */
    static final Map<String, String> IMPATIENT_RETRIES = Map.of(
            "spark.hadoop.fs.s3a.attempts.maximum", "1",
            "spark.hadoop.fs.s3a.retry.limit", "1",
            "spark.hadoop.fs.s3a.retry.interval", "100ms");

    private static Path shared;
    private static Path classDir;
    private static Path localOut;

    @BeforeAll
    static void localReference() throws Exception {
        shared = Shared.root();
        classDir = ClusterRound.runDir("faults-it");
        localOut = classDir.resolve("local-out");
        Map<String, String> env = Map.of("ADVSPARK_TMP", Files.createDirectories(classDir.resolve("local-tmp")).toString());
        ClusterRound.run(TAG, "local[2] reference run", ClusterRound.command(shared, "local[2]", localOut.toString(), true),
                env, classDir.resolve("local.log"));
    }

    @AfterAll
    static void removeReference() throws Exception {
        if (classDir != null) {
            ClusterRound.cleanUp(classDir, null);
        }
    }

    /** What a test sees while the round runs. */
    private record Running(StandaloneCluster cluster, S3ProxyProcess s3, FileSystem store, String bucket, Process round,
            Path log, long t0, List<String> cmd, Map<String, String> env) {
        int committed() throws Exception {
            return ClusterRound.committedRecordFiles(store, bucket);
        }

        /** Waits until at least {@code n} record files are committed; the round must still be running. */
        int awaitCommitted(int n) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
            int c;
            while ((c = committed()) < n) {
                assertTrue(round.isAlive(), "the round ended before the fault; its log ends:\n"
                        + JvmDaemon.tail(ClusterRound.read(log), 60));
                assertTrue(System.nanoTime() < deadline, "no " + n + " record files within 300 s");
                Thread.sleep(200);
            }
            assertTrue(round.isAlive(), "the round ended before the fault");
            assertTrue(c < RECORD_FILES, "all " + c + " record files committed before the fault");
            return c;
        }
    }

    /** Acts on the running round; returns the process whose end is the round's (it, or a rerun). */
    private interface Fault {
        Process inject(Running r) throws Exception;
    }

    /**
     * Starts s3proxy (behind {@code proxy} if given) and the cluster, submits the round, lets
     * {@code fault} act on it, waits for its end and compares its output with the local reference.
     * Returns the round's output and the executor ids that wrote records.
     */
    private static String roundWithFault(String name, boolean viaProxy, Map<String, String> moreConf, Fault fault,
            Set<String>[] executorIds) throws Exception {
        return roundWithFault(name, viaProxy, moreConf, fault, executorIds, false);
    }

    /**
     * As above; with {@code mayFail} the round may also exit non-zero, if its output names the
     * store and no temporary object is visible in the store (returns null then).
     */
    private static String roundWithFault(String name, boolean viaProxy, Map<String, String> moreConf, Fault fault,
            Set<String>[] executorIds, boolean mayFail) throws Exception {
        return roundWithFault(name, viaProxy, moreConf, List.of(), false, fault, executorIds, mayFail);
    }

    /**
     * As above, with {@code moreArgs} appended to the round's command and, with {@code distinctHosts},
     * the Workers on distinct loopback addresses (see {@link StandaloneCluster.Options#withDistinctWorkerHosts}).
     */
    private static String roundWithFault(String name, boolean viaProxy, Map<String, String> moreConf, List<String> moreArgs,
            boolean distinctHosts, Fault fault, Set<String>[] executorIds, boolean mayFail) throws Exception {
        Path dir = Files.createDirectories(classDir.resolve(name));
        Path target = Path.of("target").toAbsolutePath();
        Throwable failure = null;
        try {
            long t0 = System.nanoTime();
            String bucket = S3ProxyServer.randomBucket("faults-it");
            try (S3ProxyProcess s3 = S3ProxyProcess.start(dir.resolve("s3proxy"), bucket);
                    PausableTcpProxy proxy = viaProxy ? PausableTcpProxy.start(s3.port()) : null;
                    FileSystem store = FileSystem.newInstance(URI.create("s3a://" + bucket + "/"), s3.hadoopConf())) {
                Map<String, String> creds = Map.of("AWS_ACCESS_KEY_ID", s3.accessKey(), "AWS_SECRET_ACCESS_KEY", s3.secretKey());
                StandaloneCluster.Options opts = new StandaloneCluster.Options(StandaloneCluster.sparkHome(target),
                        dir.resolve("cluster"), 2, 1, "1536m", creds);
                if (distinctHosts) {
                    opts = opts.withDistinctWorkerHosts();
                }
                try (StandaloneCluster cluster = StandaloneCluster.start(opts)) {
                    System.out.printf(Locale.ROOT, "%s[%s]: s3proxy, master and 2 workers up in %.1f s%n", TAG, name,
                            (System.nanoTime() - t0) / 1e9);
                    Path execTmp = Files.createDirectories(dir.resolve("executor-tmp"));
                    String endpoint = proxy != null ? proxy.endpoint() : s3.endpoint();
                    List<String> cmd = new java.util.ArrayList<>(
                            ClusterRound.clusterCommand(shared, cluster, endpoint, bucket, execTmp, moreConf));
                    cmd.addAll(moreArgs);
                    Map<String, String> env = new LinkedHashMap<>(creds);
                    env.put("ADVSPARK_TMP", Files.createDirectories(dir.resolve("driver-tmp")).toString());
                    Path log = dir.resolve("submit.log");
                    long ts = System.nanoTime();
                    Process p = Scripts.start(cmd, env, log);
                    Process first = p;
                    try {
                        Running r = new Running(cluster, s3, store, bucket, p, log, ts, cmd, env);
                        if (proxy != null) {
                            ProxyHolder.proxy = proxy;
                        }
                        p = fault.inject(r);
                    } catch (Throwable t) {
                        // Stop the round (driver and its children) by PID before reporting.
                        first.descendants().forEach(ProcessHandle::destroyForcibly);
                        first.destroyForcibly();
                        throw t;
                    } finally {
                        ProxyHolder.proxy = null;
                        if (proxy != null) {
                            proxy.resume(); // never leave the store away if the fault failed
                        }
                    }
                    if (p != first) {
                        log = dir.resolve("rerun.log");
                    }
                    int exit = ClusterRound.await(TAG + "[" + name + "]", "cluster run with the fault (submit to end)", p, log, ts);
                    if (mayFail) {
                        if (exit != 0) {
                            String failed = ClusterRound.read(log);
                            System.out.println(TAG + "[" + name + "]: the round failed; its log ends:\n" + JvmDaemon.tail(failed, 30));
                            assertTrue(failed.contains(bucket) || failed.contains(endpoint),
                                    "the failure does not name the store (" + bucket + ", " + endpoint + "):\n" + JvmDaemon.tail(failed, 60));
                            for (String o : ClusterRound.objects(store, bucket)) {
                                String base = o.substring(o.lastIndexOf('/') + 1);
                                assertFalse(base.startsWith(".") || base.contains("_tmp"), "temporary object visible: " + o);
                            }
                            return null;
                        }
                    }
                    String out = ClusterRound.check("cluster run with the fault", exit, log);
                    long tc = System.nanoTime();
                    executorIds[0] = ClusterRound.compare(TAG + "[" + name + "]", shared, s3.hadoopConf(), s3.s3aSettings(),
                            bucket, localOut);
                    System.out.printf(Locale.ROOT, "%s[%s]: comparing the outputs took %.1f s%n", TAG, name,
                            (System.nanoTime() - tc) / 1e9);
                    assertTrue(cluster.executorLogs(null).keySet().containsAll(executorIds[0]),
                            "executor_id of the records " + executorIds[0] + " vs executor logs " + cluster.executorLogs(null).keySet());
                    for (Map.Entry<String, Path> e : cluster.executorLogs(null).entrySet()) {
                        List<String> lines = ClusterRound.read(e.getValue()).lines()
                                .filter(l -> RETRY_LINE.matcher(l).find()).toList();
                        System.out.printf(Locale.ROOT, "%s[%s]: executor %s: %d retry/connection lines%s%n", TAG, name, e.getKey(),
                                lines.size(), lines.isEmpty() ? "" : ", e.g. " + lines.get(0));
                    }
                    if (proxy != null) {
                        System.out.printf(Locale.ROOT, "%s[%s]: proxy forwarded %d connections, cut %d during the outage%n",
                                TAG, name, proxy.accepted(), proxy.refused());
                    }
                    return out;
                }
            }
        } catch (Throwable t) {
            failure = t;
            throw t;
        } finally {
            ClusterRound.cleanUp(dir, failure);
        }
    }

    /** The pausable proxy of the running test (set only while its fault is injected). */
    private static final class ProxyHolder {
        static volatile PausableTcpProxy proxy;
    }

    /** The failed task attempts of the driver log ("Lost task 1.0 in stage 1.0 ..." -> "1.0"). */
    private static List<String> lostTasks(String driverLog) {
        List<String> out = new java.util.ArrayList<>();
        Matcher m = Pattern.compile("Lost task (\\d+\\.\\d+) in stage").matcher(driverLog);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    /** Executor id -> PID, from the Workers' executor logs ("Started daemon with process name: PID@host"). */
    private static Map<String, Long> executorPids(StandaloneCluster cluster) throws Exception {
        Map<String, Long> out = new TreeMap<>();
        for (Map.Entry<String, Path> e : cluster.executorLogs(null).entrySet()) {
            Matcher m = EXECUTOR_PID.matcher(ClusterRound.read(e.getValue()));
            if (m.find()) {
                out.put(e.getKey(), Long.parseLong(m.group(1)));
            }
        }
        return out;
    }

    /**
     * Speculation on, and made to happen: 3 partitions on 2 one-core executors leave one executor
     * idle while the third task runs, and with {@code spark.speculation.multiplier=0.3} Spark
     * starts a copy of that task on the idle executor (the Workers are on distinct loopback
     * addresses: Spark never runs two attempts of a task on one host). Both attempts write the same
     * PNG and record-file names; the slower is killed mid-way. The output must still equal local[2]
     * (one PNG and one row per pair), and the run summary must show the speculative attempt.
     */
    @Test
    @SuppressWarnings("unchecked")
    void speculativeCopiesOfATaskLeaveOneRowAndOnePngPerPair() throws Exception {
        Set<String>[] ids = new Set[1];
        Map<String, String> speculation = new LinkedHashMap<>();
        speculation.put("spark.speculation", "true");
        speculation.put("spark.speculation.interval", "100ms");
        speculation.put("spark.speculation.multiplier", "0.3");
        speculation.put("spark.speculation.quantile", "0.3");
        speculation.put("spark.speculation.minTaskRuntime", "100ms");
        String out = roundWithFault("speculation", false, speculation, List.of("--set", "dataset.partitions=3"), true,
                Running::round, ids, false);
        Matcher m = Pattern.compile("tasks +(\\d+) in (\\d+) attempts: (\\d+) speculative, (\\d+) failed, (\\d+) killed").matcher(out);
        assertTrue(m.find(), "no speculative attempt in the run summary:\n" + JvmDaemon.tail(out, 30));
        assertEquals("3", m.group(1), m.group());
        assertTrue(Integer.parseInt(m.group(3)) >= 1, m.group());
        assertEquals("0", m.group(4), m.group());
        System.out.printf(Locale.ROOT, "%s: speculation: %s; records written by executors %s%n", TAG, m.group(), ids[0]);
        Report.append("faults-it.md", "FaultsIT speculation: " + m.group() + ", output equals local[2]");
    }

    @Test
    @SuppressWarnings("unchecked")
    void aKilledExecutorIsReplacedAndTheRoundEqualsLocal() throws Exception {
        long[] timings = new long[3];
        Set<String>[] ids = new Set[1];
        String out = roundWithFault("executor-killed", false, Map.of(), r -> {
            int before = r.awaitCommitted(COMMITTED_BEFORE_FAULT);
            Map<String, Long> pids = executorPids(r.cluster());
            assertEquals(2, pids.size(), "executors before the kill: " + pids);
            String victim = pids.keySet().iterator().next();
            long pid = pids.get(victim);
            ProcessHandle h = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("executor " + victim + " pid " + pid + " not running"));
            String cmdline = JvmDaemon.commandLine(h);
            // An executor of this run: its class, its id, and its temp dir inside the run's folder.
            assertTrue(cmdline.contains("CoarseGrainedExecutorBackend") && cmdline.contains("--executor-id " + victim + " ")
                            && cmdline.contains(r.cluster().options().dir().getParent().toString()),
                    "pid " + pid + " is not an executor of this cluster: " + cmdline);
            long tk = System.nanoTime();
            assertTrue(h.destroyForcibly(), "SIGKILL to " + pid); // SIGKILL on Linux
            h.onExit().get(30, TimeUnit.SECONDS);
            System.out.printf(Locale.ROOT, "%s: killed executor %s (pid %d) %.1f s after submit, %d of %d record files committed%n",
                    TAG, victim, pid, (tk - r.t0()) / 1e9, before, RECORD_FILES);
            // The Worker starts a replacement executor: how long until it runs.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            Map<String, Long> now = executorPids(r.cluster());
            while (now.size() < 3 && r.round().isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(200);
                now = executorPids(r.cluster());
            }
            timings[0] = now.size() >= 3 ? System.nanoTime() - tk : -1;
            System.out.printf(Locale.ROOT, "%s: replacement executor %s after %s; executors now %s%n", TAG,
                    now.size() >= 3 ? "started" : "not seen", timings[0] < 0 ? "-" : String.format(Locale.ROOT, "%.1f s", timings[0] / 1e9), now);
            assertFalse(h.isAlive());
            return r.round();
        }, ids);
        int lost = count(out, "Lost task");
        int executorLost = count(out, "ExecutorLostFailure");
        System.out.printf(Locale.ROOT, "%s: driver log: %d 'Lost task' lines %s, %d ExecutorLostFailure; records written by executors %s%n",
                TAG, lost, lostTasks(out), executorLost, ids[0]);
        Report.append("faults-it.md", String.format(Locale.ROOT,
                "FaultsIT executor killed: replacement executor after %.1f s, %d lost-task lines, records by executors %s",
                timings[0] / 1e9, lost, ids[0]));
    }

    /**
     * The driver (the submitting JVM, client mode) is killed with SIGKILL; its executors end with
     * the application; the same command rerun on the same cluster skips what was committed and
     * completes, with the output equal to local[2].
     */
    @Test
    @SuppressWarnings("unchecked")
    void aKilledDriverIsResumedByTheSameCommandOnTheCluster() throws Exception {
        Set<String>[] ids = new Set[1];
        String[] rerunLog = new String[1];
        String out = roundWithFault("driver-killed", false, Map.of(), r -> {
            int before = r.awaitCommitted(COMMITTED_BEFORE_FAULT);
            List<ProcessHandle> family = new java.util.ArrayList<>(r.round().descendants().toList());
            long tk = System.nanoTime();
            r.round().destroyForcibly(); // SIGKILL: no shutdown hook
            family.forEach(ProcessHandle::destroyForcibly);
            r.round().waitFor(30, TimeUnit.SECONDS);
            for (ProcessHandle h : family) {
                h.onExit().get(30, TimeUnit.SECONDS);
            }
            int atKill = r.committed();
            // The Master removes the application and the Workers stop its executors.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            Map<String, Long> execs = executorPids(r.cluster());
            while (execs.values().stream().anyMatch(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                    && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            boolean gone = execs.values().stream().noneMatch(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
            System.out.printf(Locale.ROOT, "%s: killed the driver (%d processes) %.1f s after submit, %d -> %d of %d record files"
                    + " committed; its executors gone after %.1f s: %s%n", TAG, family.size() + 1, (tk - r.t0()) / 1e9, before,
                    atKill, RECORD_FILES, (System.nanoTime() - tk) / 1e9, gone);
            assertTrue(gone, "executors of the killed driver still running: " + execs);
            assertTrue(atKill < RECORD_FILES, "everything committed before the kill");
            Path rerun = r.log().resolveSibling("rerun.log");
            rerunLog[0] = rerun.toString();
            return Scripts.start(r.cmd(), r.env(), rerun);
        }, ids);
        Matcher m = Pattern.compile("(\\d+) \\(image, attack\\) pairs committed by an earlier run are skipped").matcher(out);
        assertTrue(m.find(), "the rerun did not resume:\n" + JvmDaemon.tail(out, 40));
        int skipped = Integer.parseInt(m.group(1));
        System.out.printf(Locale.ROOT, "%s: the rerun skipped %d (image, attack) pairs; records by executors %s%n", TAG, skipped, ids[0]);
        assertTrue(skipped >= COMMITTED_BEFORE_FAULT * ClusterRound.BATCH && skipped < RECORD_FILES * ClusterRound.BATCH,
                "skipped " + skipped);
        Report.append("faults-it.md", "FaultsIT driver killed: the rerun skipped " + skipped + " pairs and equals local[2]");
    }

    @Test
    void aFiveSecondStoreOutageIsRiddenOutByS3aRetries() throws Exception {
        String out = outage("store-outage", SURVIVING_RETRIES, false);
        Report.append("faults-it.md", String.format(Locale.ROOT, "FaultsIT store outage %d s with %s: round completed,"
                + " %d lost-task lines", OUTAGE_SECONDS, SURVIVING_RETRIES, count(out, "Lost task")));
    }

    /**
     * The same outage with S3A retries too short for it ({@link #IMPATIENT_RETRIES}): a task that
     * writes during the outage fails, and Spark's task retry, redoing the same deterministic writes,
     * must still give exact results; should the round fail instead, its message must name the store
     * and no temporary object may be visible.
     */
    @Test
    void withImpatientS3aRetriesAFailedTaskIsRetriedToExactResults() throws Exception {
        String out = outage("store-outage-impatient", IMPATIENT_RETRIES, true);
        Report.append("faults-it.md", String.format(Locale.ROOT, "FaultsIT store outage %d s with %s: %s", OUTAGE_SECONDS,
                IMPATIENT_RETRIES, out == null ? "round failed naming the store"
                        : "round completed with exact results, " + count(out, "Lost task") + " lost-task lines"));
    }

    @SuppressWarnings("unchecked")
    private static String outage(String name, Map<String, String> retries, boolean mayFail) throws Exception {
        Set<String>[] ids = new Set[1];
        int[] counts = new int[2];
        String out = roundWithFault(name, true, retries, r -> {
            counts[0] = r.awaitCommitted(COMMITTED_BEFORE_FAULT);
            PausableTcpProxy proxy = ProxyHolder.proxy;
            long tp = System.nanoTime();
            proxy.pause();
            Thread.sleep(TimeUnit.SECONDS.toMillis(OUTAGE_SECONDS));
            proxy.resume();
            counts[1] = r.committed();
            System.out.printf(Locale.ROOT, "%s[%s]: store unreachable from %.1f s after submit for %.1f s (%d -> %d of %d record"
                    + " files committed around it, %d connections cut); round still running: %s%n", TAG, name, (tp - r.t0()) / 1e9,
                    (System.nanoTime() - tp) / 1e9, counts[0], counts[1], RECORD_FILES, proxy.refused(), r.round().isAlive());
            return r.round();
        }, ids, mayFail);
        if (out != null) {
            System.out.printf(Locale.ROOT, "%s[%s]: driver log: %d 'Lost task' lines %s%s; records written by executors %s%n", TAG,
                    name, count(out, "Lost task"), lostTasks(out), out.lines().filter(l -> l.contains("Lost task")).findFirst()
                            .map(l -> ", e.g. " + l).orElse(""), ids[0]);
        }
        return out;
    }
}
