package io.advspark.job;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.SparkContext;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;

/**
 * Where a round's task time goes, gathered with accumulators (they reach the driver with each
 * finished task, and a retried task's updates are counted once): reading and decoding images,
 * getting the ensemble (the first task of a JVM loads it), the attack with its clean and
 * adversarial predictions, PNG encoding, and writes (PNGs and record files). Per executor: the
 * (image, attack) pairs done and the busy time of its batches, hence its throughput.
 */
public final class RunMetrics implements Serializable {
    final LongAccumulator readNanos;
    final LongAccumulator modelNanos;
    final LongAccumulator attackNanos;
    final LongAccumulator encodeNanos;
    final LongAccumulator writeNanos;
    /** One entry per committed batch: {@code executor \t images \t nanos}. */
    final CollectionAccumulator<String> batches;

    private RunMetrics(SparkContext sc) {
        readNanos = sc.longAccumulator("advspark.read.nanos");
        modelNanos = sc.longAccumulator("advspark.model.nanos");
        attackNanos = sc.longAccumulator("advspark.attack.nanos");
        encodeNanos = sc.longAccumulator("advspark.encode.nanos");
        writeNanos = sc.longAccumulator("advspark.write.nanos");
        batches = sc.collectionAccumulator("advspark.batches");
    }

    public static RunMetrics register(SparkContext sc) {
        return new RunMetrics(sc);
    }

    void batch(String executor, int images, long nanos) {
        batches.add(executor + "\t" + images + "\t" + nanos);
    }

    /** The figures, on the driver after the job. */
    public Timings timings() {
        Map<String, long[]> per = new TreeMap<>();
        for (String b : batches.value()) {
            String[] f = b.split("\t");
            long[] acc = per.computeIfAbsent(f[0], k -> new long[2]);
            acc[0] += Long.parseLong(f[1]);
            acc[1] += Long.parseLong(f[2]);
        }
        List<Timings.Executor> ex = new ArrayList<>();
        per.forEach((k, v) -> ex.add(new Timings.Executor(k, v[0], v[1] / 1e9)));
        return new Timings(readNanos.value() / 1e9, modelNanos.value() / 1e9, attackNanos.value() / 1e9,
                encodeNanos.value() / 1e9, writeNanos.value() / 1e9, ex);
    }

    /**
     * Task time of a run, summed over tasks (seconds), and per-executor throughput.
     *
     * @param attackSeconds the tensor work: clean predictions, the attack, predictions on the 8-bit images
     */
    public record Timings(double readSeconds, double modelSeconds, double attackSeconds, double encodeSeconds,
            double writeSeconds, List<Executor> executors, Attempts attempts) implements Serializable {
        public Timings {
            executors = List.copyOf(executors);
        }

        public Timings(double readSeconds, double modelSeconds, double attackSeconds, double encodeSeconds,
                double writeSeconds, List<Executor> executors) {
            this(readSeconds, modelSeconds, attackSeconds, encodeSeconds, writeSeconds, executors, null);
        }

        /** These timings with the job's task attempts and each executor's task window (see {@link ProgressListener#windows}). */
        public Timings withTasks(Attempts a, Map<String, double[]> windows) {
            List<Executor> ex = executors.stream().map(e -> {
                double[] w = windows.get(e.id());
                return w == null ? e : new Executor(e.id(), e.images(), e.busySeconds(), w[0], w[1]);
            }).toList();
            return new Timings(readSeconds, modelSeconds, attackSeconds, encodeSeconds, writeSeconds, ex, a);
        }

        /**
         * An executor's (image, attack) pairs, the summed wall time of its batches, and when its
         * first task started and its last ended, in seconds after the attack job's submission (NaN
         * if unknown).
         */
        public record Executor(String id, long images, double busySeconds, double firstTaskSeconds, double lastTaskEndSeconds)
                implements Serializable {
            public Executor(String id, long images, double busySeconds) {
                this(id, images, busySeconds, Double.NaN, Double.NaN);
            }

            public double imagesPerSecond() {
                return images / Math.max(busySeconds, 1e-9);
            }
        }

        public double taskSeconds() {
            return readSeconds + modelSeconds + attackSeconds + encodeSeconds + writeSeconds;
        }

        String render() {
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                    "  task time    %.1f s summed over tasks: attack %.1f s (%.0f%%), read %.1f s, model load %.1f s,"
                            + " encode %.1f s, write %.1f s%n",
                    taskSeconds(), attackSeconds, 100 * attackSeconds / Math.max(taskSeconds(), 1e-9), readSeconds,
                    modelSeconds, encodeSeconds, writeSeconds));
            for (Executor e : executors) {
                b.append(String.format(Locale.ROOT, "  executor %-4s %d images in %.1f s of batches (%.2f images/s)",
                        e.id(), e.images(), e.busySeconds(), e.imagesPerSecond()));
                if (!Double.isNaN(e.firstTaskSeconds())) {
                    b.append(String.format(Locale.ROOT, ", tasks from %.1f s to %.1f s of the attack job",
                            e.firstTaskSeconds(), e.lastTaskEndSeconds()));
                }
                b.append(System.lineSeparator());
            }
            if (attempts != null) {
                b.append(attempts.render());
            }
            return b.toString();
        }
    }

    /**
     * Task attempts of the attack job: {@code tasks} distinct tasks ran in {@code attempts}
     * attempts, of which {@code speculative} were speculative copies, {@code failed} failed (and
     * were retried, or failed the job) and {@code killed} were killed (the slower attempt of a
     * speculated task). Extra attempts rewrite the same files (see docs/writes-and-resuming.md), so
     * they cost time, never rows.
     */
    public record Attempts(int tasks, int attempts, int speculative, int failed, int killed) implements Serializable {
        /** Both jobs' attempts: a search round runs one attack job per wave. */
        public Attempts plus(Attempts o) {
            return new Attempts(tasks + o.tasks, attempts + o.attempts, speculative + o.speculative, failed + o.failed,
                    killed + o.killed);
        }

        String render() {
            if (attempts == tasks && failed == 0 && killed == 0) {
                return String.format(Locale.ROOT, "  tasks        %d, one attempt each%n", tasks);
            }
            return String.format(Locale.ROOT, "  tasks        %d in %d attempts: %d speculative, %d failed, %d killed%n", tasks,
                    attempts, speculative, failed, killed);
        }
    }
}
