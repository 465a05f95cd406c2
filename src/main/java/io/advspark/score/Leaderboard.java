package io.advspark.score;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The terminal leaderboard of a round ({@code advspark report}): one line per attack config, one
 * column per defended target, ranked by the mean of the chosen metric over the columns (the
 * round's competition score when the metric is {@code score}: the mean over images and targets).
 */
public final class Leaderboard {
    private Leaderboard() {}

    /** What a cell shows. */
    public enum Metric {
        SCORE("mean competition score"),
        UNTARGETED("untargeted success rate, %"),
        TARGETED("targeted success rate, %");

        final String label;

        Metric(String label) {
            this.label = label;
        }

        double of(Entry e) {
            return switch (this) {
                case SCORE -> e.meanScore();
                case UNTARGETED -> 100 * e.untargetedRate();
                case TARGETED -> 100 * e.targetedRate();
            };
        }
    }

    /**
     * One summary row.
     *
     * @param variant the defended target, e.g. {@code mobilenet_v2 [jpeg(quality=75) > model]}
     */
    public record Entry(String attack, String variant, long images, double cleanAccuracy, double untargetedRate,
            double targetedRate, double meanScore) {}

    public static String render(String title, List<Entry> entries, Metric metric) {
        Set<String> variants = new LinkedHashSet<>();
        Map<String, Map<String, Entry>> byAttack = new LinkedHashMap<>();
        Map<String, Double> clean = new LinkedHashMap<>();
        for (Entry e : entries) {
            variants.add(e.variant());
            byAttack.computeIfAbsent(e.attack(), k -> new LinkedHashMap<>()).put(e.variant(), e);
            clean.putIfAbsent(e.variant(), e.cleanAccuracy());
        }
        List<String> cols = new ArrayList<>(variants);
        List<Map.Entry<String, Double>> ranked = new ArrayList<>();
        for (Map.Entry<String, Map<String, Entry>> a : byAttack.entrySet()) {
            double sum = 0;
            int n = 0;
            for (Entry e : a.getValue().values()) {
                double v = metric.of(e);
                if (!Double.isNaN(v)) {
                    sum += v;
                    n++;
                }
            }
            ranked.add(Map.entry(a.getKey(), n == 0 ? Double.NaN : sum / n));
        }
        ranked.sort(Comparator.comparing((Map.Entry<String, Double> x) -> Double.isNaN(x.getValue()) ? Double.NEGATIVE_INFINITY
                : x.getValue()).reversed());
        int w0 = Math.max(19, byAttack.keySet().stream().mapToInt(String::length).max().orElse(6));
        int[] w = cols.stream().mapToInt(c -> Math.max(8, c.length())).toArray();
        StringBuilder b = new StringBuilder(title).append('\n');
        b.append("  cells: ").append(metric.label).append("; mean: over the columns\n");
        b.append(String.format(Locale.ROOT, "  %3s  %-" + w0 + "s %8s", "#", "attack", "mean"));
        for (int i = 0; i < cols.size(); i++) {
            b.append("  ").append(pad(cols.get(i), w[i]));
        }
        b.append('\n');
        b.append(String.format(Locale.ROOT, "  %3s  %-" + w0 + "s %8s", "", "(clean accuracy, %)", ""));
        for (int i = 0; i < cols.size(); i++) {
            b.append("  ").append(pad(String.format(Locale.ROOT, "%.1f", 100 * clean.get(cols.get(i))), w[i]));
        }
        b.append('\n');
        int rank = 1;
        for (Map.Entry<String, Double> a : ranked) {
            b.append(String.format(Locale.ROOT, "  %3d  %-" + w0 + "s %8s", rank++, a.getKey(), fmt(a.getValue(), metric)));
            for (int i = 0; i < cols.size(); i++) {
                Entry e = byAttack.get(a.getKey()).get(cols.get(i));
                b.append("  ").append(pad(e == null ? "-" : fmt(metric.of(e), metric), w[i]));
            }
            b.append('\n');
        }
        return b.toString();
    }

    private static String fmt(double v, Metric m) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, m == Metric.SCORE ? "%.3f" : "%.1f", v);
    }

    private static String pad(String s, int w) {
        return String.format("%" + w + "s", s);
    }
}
