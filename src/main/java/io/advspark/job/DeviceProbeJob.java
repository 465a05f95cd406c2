package io.advspark.job;

import ai.djl.Device;
import io.advspark.data.Storage;
import io.advspark.model.ModelBundle;
import io.advspark.model.ModelCache;
import io.advspark.model.ModelLoader;
import io.advspark.model.TorchThreads;
import io.advspark.plan.RoundConfig;
import java.io.Serializable;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * {@code advspark devices}: checks, before a long round, where its tasks would compute. Runs
 * tasks the way a round does (same Spark resource settings, same {@code advspark.device}): each
 * task resolves its device from the GPU addresses in its TaskContext, loads the round's
 * surrogates there through the executor's model cache, and times one ensemble gradient of a
 * batch. Writes nothing. The table shows, per task, the executor, the GPU addresses Spark gave
 * it, the device, and whether the step ran; a wrong discovery script, a CPU libtorch on a GPU
 * node or a missing {@code spark.task.resource.gpu.amount} shows up here in seconds.
 */
public final class DeviceProbeJob {
    private DeviceProbeJob() {}

    /** One task's finding. Times in ms since the epoch (start, end) or durations (loadMs, stepMs). */
    public record TaskProbe(String executor, String host, long pid, int partition, List<String> gpuAddresses,
            String device, String error, long startMs, long endMs, long loadMs, long stepMs) implements Serializable {
        public boolean ok() {
            return error == null;
        }
    }

    /** The probe's findings, in partition order. */
    public record Result(List<TaskProbe> tasks) {
        public boolean ok() {
            return tasks.stream().allMatch(TaskProbe::ok);
        }

        /**
         * The table: {@code from}/{@code to} are ms since the first task started, so tasks that
         * ran at the same time on one executor can be seen side by side.
         */
        public String render() {
            StringBuilder sb = new StringBuilder();
            long t0 = tasks.stream().mapToLong(TaskProbe::startMs).min().orElse(0);
            sb.append(String.format("%-9s %-16s %-8s %-5s %-10s %-7s %7s %7s %8s %8s  %s%n", "executor", "host", "pid", "task",
                    "gpus", "device", "from", "to", "load ms", "step ms", "status"));
            for (TaskProbe t : tasks) {
                sb.append(String.format("%-9s %-16s %-8d %-5d %-10s %-7s %7d %7d %8s %8s  %s%n", t.executor(), t.host(), t.pid(),
                        t.partition(), t.gpuAddresses().isEmpty() ? "-" : String.join(",", t.gpuAddresses()), t.device(),
                        t.startMs() - t0, t.endMs() - t0, t.ok() ? t.loadMs() : "-", t.ok() ? t.stepMs() : "-",
                        t.ok() ? "ok" : t.error()));
            }
            long bad = tasks.stream().filter(t -> !t.ok()).count();
            sb.append(bad == 0 ? "advspark devices: all " + tasks.size() + " tasks computed on their device\n"
                    : "advspark devices: " + bad + " of " + tasks.size() + " tasks could not compute on their device\n");
            return sb.toString();
        }
    }

    /**
     * @param tasks how many tasks (0: twice the default parallelism, so every slot runs at least one)
     */
    public static Result run(RoundConfig config, SparkSession spark, int tasks) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Storage storage = Storage.of(jsc.hadoopConfiguration());
        List<ModelBundle> bundles = ModelLoader.load(config.surrogateSources(storage), storage, config.threads());
        Broadcast<List<ModelBundle>> models = jsc.broadcast(bundles);
        String cacheKey = jsc.sc().applicationId() + "/probe-" + models.id();
        int n = tasks > 0 ? tasks : 2 * jsc.defaultParallelism();
        String device = config.device();
        int threads = config.threads();
        int batch = config.batchSize();
        spark.sparkContext().setJobDescription("advspark devices: " + n + " tasks on " + device);
        List<TaskProbe> out = new ArrayList<>(jsc.parallelize(IntStream.range(0, n).boxed().toList(), n)
                .mapPartitions((Iterator<Integer> it) -> List.of(probe(cacheKey, models, device, threads, batch)).iterator())
                .collect());
        ModelCache.evict(cacheKey);
        out.sort(java.util.Comparator.comparingInt(TaskProbe::partition));
        return new Result(out);
    }

    private static TaskProbe probe(String cacheKey, Broadcast<List<ModelBundle>> models, String configured, int threads,
            int batch) {
        long start = System.currentTimeMillis();
        TaskContext tc = TaskContext.get();
        String executor = SparkEnv.get() == null ? "driver" : SparkEnv.get().executorId();
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "?";
        }
        long pid = ProcessHandle.current().pid();
        List<String> addresses = TaskDevice.gpuAddresses();
        String deviceName = configured;
        try {
            Device device = TaskDevice.forTask(configured, threads);
            deviceName = TaskDevice.name(device);
            long t0 = System.nanoTime();
            long loadMs;
            long stepMs;
            try (ModelCache.Lease lease = ModelCache.acquire(cacheKey, models::value, threads, device)) {
                loadMs = (System.nanoTime() - t0) / 1_000_000;
                long t1 = System.nanoTime();
                TorchThreads.callUnchecked(() -> {
                    lease.ensemble().probeGradient(device, batch);
                    return null;
                });
                stepMs = (System.nanoTime() - t1) / 1_000_000;
            }
            return new TaskProbe(executor, host, pid, tc.partitionId(), addresses, deviceName, null, start,
                    System.currentTimeMillis(), loadMs, stepMs);
        } catch (RuntimeException ex) {
            return new TaskProbe(executor, host, pid, tc.partitionId(), addresses, deviceName,
                    String.valueOf(ex.getMessage()), start, System.currentTimeMillis(), 0, 0);
        }
    }
}
