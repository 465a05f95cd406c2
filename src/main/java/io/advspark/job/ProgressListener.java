package io.advspark.job;

import java.util.Locale;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prints round progress on the driver: (image, attack) pairs done of total, rate, ETA and
 * failures. Finished tasks report through their accumulators; running tasks through the
 * accumulator updates of executor heartbeats ({@code spark.executor.heartbeatInterval}, 10 s by
 * default), so a long task shows progress while it runs.
 */
final class ProgressListener extends SparkListener {
    private static final Logger LOG = LoggerFactory.getLogger("advspark.progress");
    private final long total;
    private final LongAccumulator done;
    private final LongAccumulator failed;
    private final long startNanos = System.nanoTime();
    private long lastPrinted = -1;
    /** Latest heartbeat value of the done/failed accumulators per running task. */
    private final java.util.Map<Long, long[]> running = new java.util.HashMap<>();

    ProgressListener(long total, LongAccumulator done, LongAccumulator failed) {
        this.total = total;
        this.done = done;
        this.failed = failed;
    }

    private int attempts;
    private int speculative;
    private int failedAttempts;
    private int killed;
    private final java.util.Set<String> tasks = new java.util.HashSet<>();
    private final long startMillis = System.currentTimeMillis();
    /** Per executor: its first task's launch and its last task's end, seconds after this listener started. */
    private final java.util.Map<String, double[]> windows = new java.util.TreeMap<>();
    private final java.util.concurrent.CountDownLatch jobEnded = new java.util.concurrent.CountDownLatch(1);

    @Override
    public synchronized void onTaskStart(SparkListenerTaskStart start) {
        attempts++;
        speculative += start.taskInfo().speculative() ? 1 : 0;
        tasks.add(start.stageId() + "." + start.stageAttemptId() + ":" + start.taskInfo().index());
        double at = (start.taskInfo().launchTime() - startMillis) / 1e3;
        double[] w = windows.computeIfAbsent(start.taskInfo().executorId(), k -> new double[] {at, at});
        w[0] = Math.min(w[0], at);
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd taskEnd) {
        running.remove(taskEnd.taskInfo().taskId());
        double[] w = windows.get(taskEnd.taskInfo().executorId());
        if (w != null) {
            w[1] = Math.max(w[1], (taskEnd.taskInfo().finishTime() - startMillis) / 1e3);
        }
        if (taskEnd.reason() instanceof org.apache.spark.TaskKilled) {
            killed++; // e.g. the slower of two speculative attempts
        } else if (!(taskEnd.reason() instanceof org.apache.spark.Success$)) {
            failedAttempts++;
        }
        print();
    }

    /** Task attempts of the attack job so far: retries and speculative copies show here. */
    synchronized RunMetrics.Attempts attempts() {
        return new RunMetrics.Attempts(tasks.size(), attempts, speculative, failedAttempts, killed);
    }

    @Override
    public void onJobEnd(org.apache.spark.scheduler.SparkListenerJobEnd end) {
        jobEnded.countDown();
    }

    /**
     * Waits (up to {@code millis}) until the listener has seen a job end: Spark delivers events
     * asynchronously, after the job's own return, and a job's task ends come before its end.
     */
    void awaitJobEnd(long millis) {
        try {
            jobEnded.await(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Per executor id, {first task launched, last task ended} in seconds after the attack job was
     * submitted: a late start is executor start-up, an early end an idle slot at the round's end.
     */
    synchronized java.util.Map<String, double[]> windows() {
        java.util.Map<String, double[]> out = new java.util.TreeMap<>();
        windows.forEach((k, v) -> out.put(k, v.clone()));
        return out;
    }

    @Override
    public synchronized void onExecutorMetricsUpdate(org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate update) {
        scala.collection.Iterator<scala.Tuple4<Object, Object, Object, scala.collection.Seq<org.apache.spark.scheduler.AccumulableInfo>>> it =
                update.accumUpdates().iterator();
        while (it.hasNext()) {
            scala.Tuple4<Object, Object, Object, scala.collection.Seq<org.apache.spark.scheduler.AccumulableInfo>> t = it.next();
            long task = (Long) t._1();
            long[] v = running.computeIfAbsent(task, k -> new long[2]);
            scala.collection.Iterator<org.apache.spark.scheduler.AccumulableInfo> infos = t._4().iterator();
            while (infos.hasNext()) {
                org.apache.spark.scheduler.AccumulableInfo info = infos.next();
                if (info.update().isEmpty()) {
                    continue;
                }
                Object u = info.update().get();
                long n = u instanceof Number num ? num.longValue() : 0;
                if (info.id() == done.id()) {
                    v[0] = n;
                } else if (info.id() == failed.id()) {
                    v[1] = n;
                }
            }
        }
        print();
    }

    private void print() {
        long d = done.value();
        long f = failed.value();
        for (long[] v : running.values()) {
            d += v[0];
            f += v[1];
        }
        if (d + f == lastPrinted) {
            return;
        }
        lastPrinted = d + f;
        double s = (System.nanoTime() - startNanos) / 1e9;
        double rate = d / Math.max(s, 1e-9);
        long left = Math.max(0, total - d - f);
        String eta = rate > 0 ? formatSeconds(left / rate) : "?";
        LOG.info(String.format(Locale.ROOT, "%d/%d (image, attack) pairs (%.0f%%), %.2f/s, ETA %s, %d failed",
                d + f, total, 100.0 * (d + f) / Math.max(total, 1), rate, eta, f));
    }

    static String formatSeconds(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format("%dh%02dm", t / 3600, (t % 3600) / 60)
                : t >= 60 ? String.format("%dm%02ds", t / 60, t % 60) : t + "s";
    }
}
