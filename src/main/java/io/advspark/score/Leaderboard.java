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
 * The leaderboard of a round ({@code advspark report}): one line per attack config, one column per
 * defended target, ranked by the mean of the chosen metric over the columns (the round's
 * competition score when the metric is {@code score}: the mean over images and targets). Success
 * rates can show their Wilson 95% interval, and the attack's cost (mean wall time per image, from
 * the records) is the last column when known. Text for a terminal, or a Markdown table for a
 * report.
 */
public final class Leaderboard {
    private Leaderboard() {}

    /** What a cell shows; {@link #parse} takes the lower-case name with dashes ({@code untargeted-on-correct}). */
    public enum Metric {
        SCORE("mean competition score"),
        UNTARGETED("untargeted success rate over all images, %"),
        TARGETED("targeted success rate over all images, %"),
        UNTARGETED_ON_CORRECT("untargeted success rate over the images the defended target classifies correctly when clean, %"),
        TARGETED_ON_CORRECT("targeted success rate over the images the defended target classifies correctly when clean, %");

        final String label;

        /** What a cell shows, e.g. for a legend. */
        public String label() {
            return label;
        }

        /** Whether the cell is a success rate in % (else the mean competition score). */
        public boolean isRate() {
            return this != SCORE;
        }

        Metric(String label) {
            this.label = label;
        }

        /** The metric named {@code name} (case-insensitive, dashes or underscores), or a message listing them. */
        public static Metric parse(String name) {
            try {
                return valueOf(name.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown metric '" + name + "' (" + names() + ")", e);
            }
        }

        /** The accepted names, e.g. for help texts. */
        public static String names() {
            return String.join(", ", java.util.Arrays.stream(values()).map(Metric::cli).toList());
        }

        String cli() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /** The cell's rate, or null for the score. */
        Rate rate(Entry e) {
            return switch (this) {
                case SCORE -> null;
                case UNTARGETED -> e.untargeted();
                case TARGETED -> e.targeted();
                case UNTARGETED_ON_CORRECT -> e.untargetedOnCorrect();
                case TARGETED_ON_CORRECT -> e.targetedOnCorrect();
            };
        }

        /** The cell's value; NaN (shown as "-", left out of the mean) for an on-correct rate without clean-correct images. */
        public double of(Entry e) {
            Rate r = rate(e);
            if ((this == UNTARGETED_ON_CORRECT || this == TARGETED_ON_CORRECT) && e.cleanCorrect() == 0) {
                return Double.NaN;
            }
            return r == null ? e.meanScore() : 100 * r.rate();
        }
    }

    /** A success rate with its Wilson 95% interval, fractions in [0, 1] (NaN when it has no images). */
    public record Rate(double rate, double low, double high) {
        public static Rate of(double rate) {
            return new Rate(rate, Double.NaN, Double.NaN);
        }
    }

    /**
     * One summary row.
     *
     * @param variant the defended target, e.g. {@code mobilenet_v2 [jpeg(quality=75) > model]}
     * @param cleanCorrect the images the defended target classifies correctly when clean (the on-correct denominator)
     */
    public record Entry(String attack, String variant, long images, long cleanCorrect, double cleanAccuracy, Rate untargeted,
            Rate targeted, Rate untargetedOnCorrect, Rate targetedOnCorrect, double meanScore) {
        /** A row without intervals or on-correct rates (tests, old summaries). */
        public Entry(String attack, String variant, long images, double cleanAccuracy, double untargetedRate,
                double targetedRate, double meanScore) {
            this(attack, variant, images, Math.round(images * cleanAccuracy), cleanAccuracy, Rate.of(untargetedRate),
                    Rate.of(targetedRate), Rate.of(Double.NaN), Rate.of(Double.NaN), meanScore);
        }
    }

    /** How to render: Markdown or text, with or without intervals; {@code msPerImage} per attack (may be empty). */
    public record Style(boolean markdown, boolean intervals, Map<String, Double> msPerImage) {
        public static final Style TEXT = new Style(false, false, Map.of());
    }

    /**
     * The leaderboard as data, one line per (attack, defended target) in rank order, for scripts:
     * CSV with a header, or one JSON object with the round's title and the rows. Rates in % as in
     * the tables printed, NaN as empty (CSV) or null (JSON).
     */
    public static String renderLong(String title, List<Entry> entries, Metric metric, Map<String, Double> msPerImage,
            boolean json) {
        List<String> cols = List.of("rank", "attack", "target", "image_count", "clean_correct_count", "clean_correct_pct", "metric",
                "value", "low", "high", "attack_mean", "ms_per_image");
        List<List<Object>> rows = new ArrayList<>();
        Map<String, Double> means = new LinkedHashMap<>();
        for (Map.Entry<String, Double> a : ranked(entries, metric)) {
            means.put(a.getKey(), a.getValue());
        }
        int rank = 1;
        for (Map.Entry<String, Double> a : means.entrySet()) {
            for (Entry e : entries) {
                if (!e.attack().equals(a.getKey())) {
                    continue;
                }
                Rate r = metric.rate(e);
                rows.add(java.util.Arrays.asList(rank, e.attack(), e.variant(), e.images(), e.cleanCorrect(),
                        100 * e.cleanAccuracy(), metric.cli(), metric.of(e), r == null ? Double.NaN : 100 * r.low(),
                        r == null ? Double.NaN : 100 * r.high(), a.getValue(), msPerImage.getOrDefault(e.attack(), Double.NaN)));
            }
            rank++;
        }
        StringBuilder b = new StringBuilder();
        if (!json) {
            b.append(String.join(",", cols)).append('\n');
            for (List<Object> row : rows) {
                List<String> cells = new ArrayList<>();
                for (Object o : row) {
                    cells.add(o instanceof Double d ? (d.isNaN() ? "" : String.format(Locale.ROOT, "%.4f", d))
                            : o instanceof String t && (t.contains(",") || t.contains("\"")) ? "\"" + t.replace("\"", "\"\"") + "\""
                            : String.valueOf(o));
                }
                b.append(String.join(",", cells)).append('\n');
            }
            return b.toString();
        }
        b.append("{\"title\": ").append(jsonString(title)).append(", \"metric\": ").append(jsonString(metric.cli()))
                .append(", \"rows\": [");
        for (int i = 0; i < rows.size(); i++) {
            b.append(i == 0 ? "\n  {" : ",\n  {");
            for (int c = 0; c < cols.size(); c++) {
                Object o = rows.get(i).get(c);
                b.append(c == 0 ? "" : ", ").append('"').append(cols.get(c)).append("\": ")
                        .append(o instanceof Double d ? (d.isNaN() ? "null" : String.format(Locale.ROOT, "%.4f", d))
                                : o instanceof String t ? jsonString(t) : String.valueOf(o));
            }
            b.append('}');
        }
        return b.append("\n]}\n").toString();
    }

    private static String jsonString(String s) {
        return io.advspark.util.Json.quote(s);
    }

    /** Attacks with the mean of the metric over their defended targets, best first (NaN last). */
    private static List<Map.Entry<String, Double>> ranked(List<Entry> entries, Metric metric) {
        Map<String, List<Entry>> byAttack = new LinkedHashMap<>();
        for (Entry e : entries) {
            byAttack.computeIfAbsent(e.attack(), k -> new ArrayList<>()).add(e);
        }
        List<Map.Entry<String, Double>> ranked = new ArrayList<>();
        for (Map.Entry<String, List<Entry>> a : byAttack.entrySet()) {
            double sum = 0;
            int n = 0;
            for (Entry e : a.getValue()) {
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
        return ranked;
    }

    public static String render(String title, List<Entry> entries, Metric metric) {
        return render(title, entries, metric, Style.TEXT);
    }

    /**
     * The leaderboard's cells, header first, then the clean-accuracy (or clean-correct) line, then
     * one line per attack in rank order, and the legend: what the terminal, Markdown and HTML
     * renderings all lay out, so they show the same numbers.
     */
    public record Table(List<List<String>> cells, String legend) {
        public Table {
            cells = cells.stream().map(List::copyOf).toList();
        }

        public List<String> head() {
            return cells.get(0);
        }
    }

    public static Table table(List<Entry> entries, Metric metric, Style style) {
        Set<String> variants = new LinkedHashSet<>();
        Map<String, Map<String, Entry>> byAttack = new LinkedHashMap<>();
        Map<String, Entry> firstOf = new LinkedHashMap<>();
        for (Entry e : entries) {
            variants.add(e.variant());
            byAttack.computeIfAbsent(e.attack(), k -> new LinkedHashMap<>()).put(e.variant(), e);
            firstOf.putIfAbsent(e.variant(), e);
        }
        List<String> cols = new ArrayList<>(variants);
        List<Map.Entry<String, Double>> ranked = ranked(entries, metric);
        boolean cost = !style.msPerImage().isEmpty();
        boolean onCorrect = metric == Metric.UNTARGETED_ON_CORRECT || metric == Metric.TARGETED_ON_CORRECT;
        List<List<String>> table = new ArrayList<>();
        List<String> head = new ArrayList<>(List.of("#", "attack", "mean"));
        head.addAll(cols);
        if (cost) {
            head.add("ms/image");
        }
        table.add(head);
        List<String> cleanRow = new ArrayList<>(List.of("", onCorrect ? "(clean-correct images)" : "(clean accuracy, %)", ""));
        for (String c : cols) {
            Entry f = firstOf.get(c);
            cleanRow.add(onCorrect ? Long.toString(f.cleanCorrect()) : String.format(Locale.ROOT, "%.1f", 100 * f.cleanAccuracy()));
        }
        if (cost) {
            cleanRow.add("");
        }
        table.add(cleanRow);
        int rank = 1;
        for (Map.Entry<String, Double> a : ranked) {
            List<String> row = new ArrayList<>(List.of(Integer.toString(rank++), a.getKey(), fmt(a.getValue(), metric)));
            for (String c : cols) {
                Entry e = byAttack.get(a.getKey()).get(c);
                row.add(e == null ? "-" : cell(e, metric, style.intervals()));
            }
            if (cost) {
                Double ms = style.msPerImage().get(a.getKey());
                row.add(ms == null || ms.isNaN() ? "-" : String.format(Locale.ROOT, "%.0f", ms));
            }
            table.add(row);
        }
        String legend = "cells: " + metric.label + (style.intervals() && metric != Metric.SCORE ? " [Wilson 95% interval]" : "")
                + "; mean: over the columns" + (cost ? "; ms/image: the attack's mean wall time per image (records)" : "");
        return new Table(table, legend);
    }

    /** The attack configs in rank order (best first by the mean of {@code metric} over their defended targets). */
    public static List<String> rankedAttacks(List<Entry> entries, Metric metric) {
        return ranked(entries, metric).stream().map(Map.Entry::getKey).toList();
    }

    public static String render(String title, List<Entry> entries, Metric metric, Style style) {
        // The table as cells first, then laid out: the same cells serve text, Markdown and HTML.
        Table t = table(entries, metric, style);
        List<List<String>> table = t.cells();
        List<String> head = t.head();
        StringBuilder b = new StringBuilder();
        String legend = t.legend();
        if (style.markdown()) {
            b.append(title).append("\n\n").append(legend).append("\n\n");
            for (int r = 0; r < table.size(); r++) {
                b.append("| ").append(String.join(" | ", table.get(r))).append(" |\n");
                if (r == 0) {
                    b.append("|---|---|");
                    b.append("---:|".repeat(table.get(0).size() - 2)).append('\n');
                }
            }
            return b.toString();
        }
        int[] w = new int[head.size()];
        for (List<String> row : table) {
            for (int i = 0; i < row.size(); i++) {
                w[i] = Math.max(w[i], row.get(i).length());
            }
        }
        w[1] = Math.max(w[1], 19);
        for (int i = 2; i < w.length; i++) {
            w[i] = Math.max(w[i], 8);
        }
        b.append(title).append('\n').append("  ").append(legend).append('\n');
        for (List<String> row : table) {
            b.append(String.format(Locale.ROOT, "  %3s  %-" + w[1] + "s", row.get(0), row.get(1)));
            for (int i = 2; i < row.size(); i++) {
                b.append(i == 2 ? " " : "  ").append(pad(row.get(i), w[i]));
            }
            b.append('\n');
        }
        return b.toString();
    }

    private static String cell(Entry e, Metric m, boolean intervals) {
        String v = fmt(m.of(e), m);
        Rate r = m.rate(e);
        if (!intervals || r == null || Double.isNaN(r.low()) || v.equals("-")) {
            return v;
        }
        return String.format(Locale.ROOT, "%s [%.1f, %.1f]", v, 100 * r.low(), 100 * r.high());
    }

    private static String fmt(double v, Metric m) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, m == Metric.SCORE ? "%.3f" : "%.1f", v);
    }

    private static String pad(String s, int w) {
        return String.format("%" + w + "s", s);
    }
}
