package io.advspark.job;

import java.util.Locale;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prints round progress on the driver as tasks finish: images done of total, rate, ETA and
 * failures. Accumulators reach the driver with each finished task.
 */
final class ProgressListener extends SparkListener {
    private static final Logger LOG = LoggerFactory.getLogger("advspark.progress");
    private final long total;
    private final LongAccumulator done;
    private final LongAccumulator failed;
    private final long startNanos = System.nanoTime();
    private long lastPrinted = -1;

    ProgressListener(long total, LongAccumulator done, LongAccumulator failed) {
        this.total = total;
        this.done = done;
        this.failed = failed;
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd taskEnd) {
        long d = done.value();
        long f = failed.value();
        if (d + f == lastPrinted) {
            return;
        }
        lastPrinted = d + f;
        double s = (System.nanoTime() - startNanos) / 1e9;
        double rate = d / Math.max(s, 1e-9);
        long left = Math.max(0, total - d - f);
        String eta = rate > 0 ? formatSeconds(left / rate) : "?";
        LOG.info(String.format(Locale.ROOT, "%d/%d images (%.0f%%), %.2f images/s, ETA %s, %d failed",
                d + f, total, 100.0 * (d + f) / Math.max(total, 1), rate, eta, f));
    }

    static String formatSeconds(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format("%dh%02dm", t / 3600, (t % 3600) / 60)
                : t >= 60 ? String.format("%dm%02ds", t / 60, t % 60) : t + "s";
    }
}
