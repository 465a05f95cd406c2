package io.advspark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.ClusterRound;
import io.advspark.testing.JvmDaemon;
import io.advspark.testing.Scripts;
import io.advspark.testing.StandaloneCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
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
 * GPU executors without a GPU: a standalone cluster whose two Workers (2 cores each) discover two
 * GPUs each through the shipped {@code jobs/gpu-discovery}, which reads an {@code nvidia-smi} that
 * this test puts on the Workers' PATH (it prints indices 0 and 1, as the real one does). The probe
 * is submitted with {@code jobs/submit-standalone}, as a user would; Spark's
 * own resource scheduler then assigns GPU addresses to tasks, and {@code advspark devices} (the
 * round's task set-up: TaskContext addresses to libtorch device, models through the executor's
 * cache, one gradient) reports per task what it got. Checks:
 * <ul>
 *   <li>1 GPU per task, 2 per executor: tasks that run at the same time on one executor hold
 *       different addresses, and both addresses are used;
 *   <li>0.5 GPU per task, 1 per executor: two tasks run at the same time on the same address;
 *   <li>{@code advspark.device = gpu} with this CPU libtorch: every task fails with a message
 *       naming the address Spark gave it, and the command exits 1.
 * </ul>
 * Uses the repository's demo models, so it runs on a fresh clone.
 */
class GpuSchedulingIT {
    private static final Pattern ROW = Pattern.compile(
            "^(\\S+)\\s+(\\S+)\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)\\s+(\\S+)\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)\\s+(\\S+)\\s+(.*)$",
            Pattern.MULTILINE);

    record Probe(String executor, long pid, int task, String gpus, String device, long from, long to, String status) {
        boolean overlaps(Probe o) {
            return from < o.to && o.from < to;
        }
    }

    @Test
    void sparkAssignsGpuAddressesToTasksAndEachTaskUsesItsOwn() throws Exception {
        Path target = Path.of("target").toAbsolutePath();
        ClusterRound.inRunDir("gpu-it", dir -> {
            Path bin = Files.createDirectories(dir.resolve("fake-nvidia"));
            Path smi = bin.resolve("nvidia-smi");
            Files.writeString(smi, "#!/bin/sh\n[ \"$1\" = \"--query-gpu=index\" ] || exit 9\nprintf '0\\n1\\n'\n");
            Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
            Map<String, String> env = Map.of("PATH", bin + ":" + System.getenv("PATH"));
            StandaloneCluster.Options opts = new StandaloneCluster.Options(StandaloneCluster.sparkHome(target),
                    dir.resolve("cluster"), 2, 2, "2g", env).withWorkerProperties(Map.of(
                            "spark.worker.resource.gpu.amount", "2",
                            "spark.worker.resource.gpu.discoveryScript", Path.of("jobs/gpu-discovery").toAbsolutePath().toString()));
            try (StandaloneCluster cluster = StandaloneCluster.start(opts)) {
                // 1 GPU per task, 2 per executor: concurrent tasks of one executor on distinct GPUs.
                List<Probe> one = probe(cluster, dir, "cpu", "2", "1", 0);
                Map<String, List<Probe>> byExecutor = byExecutor(one);
                assertEquals(2, byExecutor.size(), "executors: " + one);
                int pairs = 0;
                for (List<Probe> ps : byExecutor.values()) {
                    Set<String> used = new HashSet<>();
                    for (Probe p : ps) {
                        assertTrue(p.gpus().equals("0") || p.gpus().equals("1"), "one address of 0,1 per task: " + p);
                        assertEquals("cpu", p.device());
                        assertEquals("ok", p.status(), p.toString());
                        used.add(p.gpus());
                    }
                    assertEquals(Set.of("0", "1"), used, "both GPUs of the executor used: " + ps);
                    for (int i = 0; i < ps.size(); i++) {
                        for (int j = i + 1; j < ps.size(); j++) {
                            if (ps.get(i).overlaps(ps.get(j))) {
                                pairs++;
                                assertTrue(!ps.get(i).gpus().equals(ps.get(j).gpus()),
                                        "two tasks at the same time on one GPU: " + ps.get(i) + " / " + ps.get(j));
                            }
                        }
                    }
                }
                assertTrue(pairs > 0, "no two tasks of one executor overlapped, nothing was checked: " + one);

                // 0.5 GPU per task, 1 per executor: two concurrent tasks share it.
                List<Probe> half = probe(cluster, dir, "cpu", "1", "2", 0);
                int shared = 0;
                for (List<Probe> ps : byExecutor(half).values()) {
                    for (int i = 0; i < ps.size(); i++) {
                        assertEquals("0", ps.get(i).gpus(), "the executor's one GPU: " + ps.get(i));
                        for (int j = i + 1; j < ps.size(); j++) {
                            shared += ps.get(i).overlaps(ps.get(j)) ? 1 : 0;
                        }
                    }
                }
                assertTrue(shared > 0, "no two tasks shared the GPU at the same time: " + half);

                // device = gpu on a CPU libtorch: each task names the address it was given.
                List<Probe> gpu = probe(cluster, dir, "gpu", "2", "1", 1);
                assertEquals(8, gpu.size(), gpu.toString());
                for (Probe p : gpu) {
                    assertTrue(p.status().contains("Spark assigned GPU address " + p.gpus() + ", but the libtorch this JVM"
                            + " loaded sees no CUDA device"), p.toString());
                }
            }
        });
    }

    /** YARN and Kubernetes cannot run here: their scripts' spark-submit command lines are checked. */
    @Test
    void yarnAndKubernetesScriptsBuildTheGpuSubmitCommand() throws Exception {
        String yarn = dryRun(List.of("jobs/submit-yarn", "yarn", "attack", "-c", "conf/demo.conf"),
                Map.of("ADVSPARK_GPUS_PER_EXECUTOR", "2", "ADVSPARK_TASKS_PER_GPU", "2", "ADVSPARK_NUM_EXECUTORS", "8",
                        "ADVSPARK_LIBTORCH", "/opt/libtorch-cu128"));
        for (String want : List.of("--master yarn", "--deploy-mode client", "--num-executors 8",
                "--conf spark.executor.resource.gpu.amount=2", "--conf spark.task.resource.gpu.amount=0.5",
                "--conf spark.executor.cores=4", "--files " + Path.of("jobs/gpu-discovery").toAbsolutePath(),
                "--conf spark.executor.resource.gpu.discoveryScript=./gpu-discovery",
                "--conf spark.executorEnv.PYTORCH_LIBRARY_PATH=/opt/libtorch-cu128/lib",
                "--conf spark.executorEnv.PYTORCH_FLAVOR=cu128", "attack --set device=gpu -c conf/demo.conf")) {
            assertTrue(yarn.contains(want), "missing '" + want + "' in\n" + yarn);
        }
        assertTrue(!yarn.contains("pytorch-native-cpu"), "the CPU libtorch jar is shipped beside a CUDA one:\n" + yarn);
        String k8s = dryRun(List.of("jobs/submit-k8s", "k8s://https://127.0.0.1:6443", "attack", "--set", "device=cpu"),
                Map.of("ADVSPARK_IMAGE", "registry/advspark:0.1.0"));
        for (String want : List.of("--master k8s://https://127.0.0.1:6443", "--conf spark.executor.resource.gpu.amount=1",
                "--conf spark.task.resource.gpu.amount=1", "--conf spark.executor.cores=1",
                "--conf spark.kubernetes.container.image=registry/advspark:0.1.0",
                "--conf spark.executor.resource.gpu.vendor=nvidia.com",
                "--conf spark.executor.resource.gpu.discoveryScript=/opt/advspark/jobs/gpu-discovery",
                "pytorch-native-cpu", "attack --set device=gpu --set device=cpu")) {
            assertTrue(k8s.contains(want), "missing '" + want + "' in\n" + k8s);
        }
        // Our jars in the image: executors take them from there, nothing is shipped with --jars.
        String image = dryRun(List.of("jobs/submit-k8s", "k8s://https://127.0.0.1:6443", "attack"),
                Map.of("ADVSPARK_IMAGE", "registry/advspark:0.1.0", "ADVSPARK_LIB_ON_NODES", "/opt/advspark/lib"));
        for (String want : List.of("--conf spark.executor.extraClassPath=/opt/advspark/lib/api-",
                ":/opt/advspark/lib/pytorch-native-cpu-", "--driver-class-path ",
                "is not on this machine: every executor node must have it")) {
            assertTrue(image.contains(want), "missing '" + want + "' in\n" + image);
        }
        assertTrue(!image.contains("--jars"), "jars shipped although the image has them:\n" + image);
        Path stale = Files.createTempDirectory("advspark-stale-lib");
        try {
            String out = script(List.of("jobs/submit-standalone", "spark://h:7077", "attack"),
                    Map.of("ADVSPARK_LIB_ON_NODES", stale.toString(), "ADVSPARK_DRY_RUN", "1"), 2);
            assertTrue(out.contains("ADVSPARK_LIB_ON_NODES=" + stale + " lacks api-"), out);
        } finally {
            Files.delete(stale);
        }
        String out = script(List.of("jobs/submit-k8s", "k8s://x", "attack"), Map.of(), 2);
        assertTrue(out.contains("set ADVSPARK_IMAGE"), out);
        out = script(List.of("jobs/submit-standalone", "spark://h:7077", "attack"), Map.of("ADVSPARK_TASKS_PER_GPU", "0.5"), 2);
        assertTrue(out.contains("ADVSPARK_TASKS_PER_GPU must be a whole number >= 1, not '0.5'"), out);
    }

    private static String dryRun(List<String> cmd, Map<String, String> env) throws Exception {
        Map<String, String> dry = new LinkedHashMap<>(env);
        dry.put("ADVSPARK_DRY_RUN", "1");
        String out = script(cmd, dry, 0);
        assertTrue(out.contains("org.apache.spark.deploy.SparkSubmit"), out);
        return out.replace("\\,", ",");
    }

    /** Runs a jobs/ script to its end; asserts its exit code, returns its output. */
    private static String script(List<String> cmd, Map<String, String> env, int expectedExit) throws Exception {
        return Scripts.run(cmd, env, Duration.ofMinutes(10), expectedExit);
    }

    private static Map<String, List<Probe>> byExecutor(List<Probe> ps) {
        Map<String, List<Probe>> m = new TreeMap<>();
        ps.forEach(p -> m.computeIfAbsent(p.executor(), k -> new ArrayList<>()).add(p));
        return m;
    }

    private static int runs;

    /** Runs {@code advspark devices} on the cluster; returns the parsed table. */
    private static List<Probe> probe(StandaloneCluster cluster, Path dir, String device, String executorGpus, String tasksPerGpu,
            int expectedExit) throws Exception {
        String name = "probe-" + (++runs) + "-" + device + "-" + executorGpus + "x" + tasksPerGpu;
        Path tmp = Files.createDirectories(dir.resolve(name + "-tmp"));
        // The shipped standalone script sets the GPU resources and device = gpu; device = cpu
        // overrides the latter (a later --set wins) so that tasks compute and overlap.
        List<String> cmd = new ArrayList<>(List.of("jobs/submit-standalone", cluster.masterUrl(), "devices",
                "--tasks", "8", "--set", "device=" + device, "--set", "threads=1"));
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("spark.executor.memory", "1g");
        conf.put("spark.scheduler.minRegisteredResourcesRatio", "1.0");
        conf.put("spark.scheduler.maxRegisteredResourcesWaitingTime", "120s");
        conf.put("spark.executor.extraJavaOptions", "-Djava.io.tmpdir=" + tmp);
        conf.forEach((k, v) -> cmd.addAll(ClusterRound.sparkConf(k, v)));
        Map<String, String> env = Map.of("ADVSPARK_TMP", tmp.toString(), "ADVSPARK_GPUS_PER_EXECUTOR", executorGpus,
                "ADVSPARK_TASKS_PER_GPU", tasksPerGpu);
        Path log = dir.resolve(name + ".log");
        long t0 = System.nanoTime();
        Process p = Scripts.start(cmd, env, log);
        int exit = ClusterRound.await("GpuSchedulingIT", name, p, log, t0);
        String out = ClusterRound.read(log);
        assertEquals(expectedExit, exit, name + " exit; its log ends:\n" + JvmDaemon.tail(out, 60));
        List<Probe> rows = new ArrayList<>();
        int header = out.indexOf("executor  ");
        assertTrue(header >= 0, name + ": no table:\n" + JvmDaemon.tail(out, 60));
        Matcher m = ROW.matcher(out.substring(out.indexOf('\n', header) + 1));
        while (m.find() && !m.group(1).equals("advspark")) {
            rows.add(new Probe(m.group(1), Long.parseLong(m.group(3)), Integer.parseInt(m.group(4)), m.group(5), m.group(6),
                    Long.parseLong(m.group(7)), Long.parseLong(m.group(8)), m.group(11).trim()));
            if (rows.size() == 8) {
                break;
            }
        }
        System.out.printf(Locale.ROOT, "GpuSchedulingIT: %s (GPUs per executor %s, tasks per GPU %s):%n%s%n", name, executorGpus,
                tasksPerGpu,
                out.substring(header, Math.min(out.length(), out.indexOf("advspark devices:", header) + 120)));
        assertEquals(8, rows.size(), name + ": rows " + rows + " in\n" + out.substring(header));
        return rows;
    }
}
