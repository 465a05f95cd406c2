package io.advspark.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;

/** What the benchmarks need to know about the machine: its load, its busy CPU time, and JSON lines. */
final class Machine {
    private static final double HZ = 100.0; // USER_HZ of /proc/stat: 100 on Linux

    private Machine() {}

    /** Busy CPU seconds of the whole machine since boot (user+nice+system+irq+softirq+steal), as jobs/bench. */
    static double busySeconds() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/stat"))) {
                if (l.startsWith("cpu ")) {
                    String[] f = l.trim().split("\\s+");
                    long busy = Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3]) + Long.parseLong(f[6])
                            + Long.parseLong(f[7]) + Long.parseLong(f[8]);
                    return busy / HZ;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no cpu line in /proc/stat");
    }

    static String loadavg() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    /**
     * As jobs/bench: waits until the rest of the machine uses less than 15 % of all cores over 5 s,
     * at most {@code seconds} (0: not at all); then runs anyway with a warning.
     */
    static void waitIdle(int seconds, String tag) throws InterruptedException {
        if (seconds <= 0) {
            return;
        }
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        int cores = Runtime.getRuntime().availableProcessors();
        while (true) {
            double b0 = busySeconds();
            Thread.sleep(5000);
            long share = Math.round(100 * (busySeconds() - b0) / (5.0 * cores));
            if (share < 15) {
                return;
            }
            if (System.nanoTime() > deadline) {
                System.err.printf(Locale.ROOT, "%s: WARNING: the machine stayed busy (%d%% of %d cores used by others); running anyway%n",
                        tag, share, cores);
                return;
            }
            System.err.printf(Locale.ROOT, "%s: waiting for other jobs to go quiet (%d%% of %d cores busy, load %s)%n", tag, share,
                    cores, loadavg());
            Thread.sleep(10_000);
        }
    }

    /** A flat JSON object (numbers, strings, lists of strings). */
    static String json(Map<String, ?> m) {
        StringBuilder b = new StringBuilder("{");
        for (Map.Entry<String, ?> e : m.entrySet()) {
            if (b.length() > 1) {
                b.append(", ");
            }
            b.append(quote(e.getKey())).append(": ").append(value(e.getValue()));
        }
        return b.append('}').toString();
    }

    private static String value(Object v) {
        if (v instanceof Double d) {
            return String.format(Locale.ROOT, "%.4f", d);
        }
        if (v instanceof Number) {
            return v.toString();
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> named = new java.util.LinkedHashMap<>();
            m.forEach((k, x) -> named.put(String.valueOf(k), x));
            return json(named);
        }
        if (v instanceof Collection<?> c) {
            StringBuilder b = new StringBuilder("[");
            for (Object o : c) {
                b.append(b.length() > 1 ? ", " : "").append(value(o));
            }
            return b.append(']').toString();
        }
        return quote(String.valueOf(v));
    }

    /** {@code s} as a JSON string literal. */
    static String quote(String s) {
        return io.advspark.util.Json.quote(s);
    }
}
