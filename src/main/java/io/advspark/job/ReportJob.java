package io.advspark.job;

import io.advspark.data.Storage;
import io.advspark.round.RoundLayout;
import io.advspark.score.Leaderboard;
import io.advspark.vocabulary.ConfigException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import io.advspark.round.ParquetRows;
import java.util.Comparator;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;

/**
 * {@code advspark report}: the leaderboard of an evaluated round, from its {@code summary} table,
 * with each attack's mean wall time per image from its {@code records} (rows without an error).
 * Read without Spark ({@link ParquetRows}).
 */
public final class ReportJob {
    private ReportJob() {}

    public static String run(SparkSession spark, String roundUri, Leaderboard.Metric metric) {
        return run(spark, roundUri, metric, false, false);
    }

    /**
     * @param markdown a Markdown table instead of the terminal layout
     * @param intervals success rates with their Wilson 95% interval
     */
    public static String run(SparkSession spark, String roundUri, Leaderboard.Metric metric, boolean markdown,
            boolean intervals) {
        return run(spark.sparkContext().hadoopConfiguration(), roundUri, metric, markdown ? "markdown" : "table", intervals);
    }

    /**
     * The leaderboard read straight from the round's Parquet files (no Spark session: a finished
     * round's report answers in about a second).
     *
     * @param format table (terminal), markdown, csv or json (one line per attack and defended target)
     */
    public static String run(Configuration conf, String roundUri, Leaderboard.Metric metric, String format,
            boolean intervals) {
        Storage storage = Storage.of(conf);
        String summaryUri = Storage.join(roundUri, "summary");
        List<Map<String, Object>> rows;
        try {
            if (!RoundState.hasDataFiles(storage, summaryUri)) {
                throw new ConfigException("no summary table at " + summaryUri + ": run `advspark evaluate` for the round"
                        + " (or `attack` on a round that lists targets) first");
            }
            rows = new ArrayList<>(ParquetRows.read(storage, conf, summaryUri));
        } catch (IOException e) {
            throw new ConfigException("cannot read " + summaryUri + ": " + e.getMessage(), e);
        }
        rows.sort(Comparator.comparing((Map<String, Object> r) -> str(r, "attack")).thenComparing(r -> str(r, "target"))
                .thenComparing(r -> !str(r, "defense").equals("model")).thenComparing(r -> str(r, "defense")));
        List<Leaderboard.Entry> entries = new ArrayList<>();
        for (Map<String, Object> r : rows) {
            entries.add(entry(r));
        }
        Map<String, Object> first = rows.isEmpty() ? Map.of() : rows.get(0);
        String title = "advspark leaderboard: round " + (rows.isEmpty() ? "?" : str(first, "round_id")) + " (" + roundUri
                + "), " + (rows.isEmpty() ? "" : str(first, "score_spec")) + ", " + (rows.isEmpty() ? 0
                : num(first, "image_count").longValue()) + " images";
        Map<String, Double> ms = msPerImage(storage, conf, roundUri);
        if (format.equals("csv") || format.equals("json")) {
            return Leaderboard.renderLong(title, entries, metric, ms, format.equals("json"));
        }
        return Leaderboard.render(title, entries, metric, new Leaderboard.Style(format.equals("markdown"), intervals, ms));
    }

    /**
     * The leaderboard entry of one summary row: the one place that knows the summary's column
     * names for the report (and its other renderings, which go through {@link Leaderboard.Entry}).
     * Reads the current names ({@link io.advspark.round.EvalTables#SUMMARY}) and, for a summary
     * written by an earlier version, their old names ({@link #OLD_SUMMARY_NAMES}).
     */
    static Leaderboard.Entry entry(Map<String, Object> r) {
        String defense = str(r, "defense");
        String variant = defense.equals("model") ? str(r, "target") : defense.replace(" > model", "") + " > " + str(r, "target");
        return new Leaderboard.Entry(str(r, "attack"), variant, num(r, "image_count").longValue(),
                num(r, "clean_correct_count").longValue(), dbl(r, "clean_correct_rate"),
                rate(r, "untargeted_success_rate"), rate(r, "targeted_success_rate"),
                rate(r, "untargeted_success_rate_on_correct"), rate(r, "targeted_success_rate_on_correct"),
                dbl(r, "mean_score"));
    }

    /**
     * Summary columns renamed in December 2026 (issue 18: {@code <name>_rate[_low|_high]} and
     * {@code _count}), by their current name: a summary written before reads under its old name.
     */
    static final Map<String, String> OLD_SUMMARY_NAMES = Map.ofEntries(
            Map.entry("image_count", "images"),
            Map.entry("clean_correct_count", "clean_correct"),
            Map.entry("clean_correct_rate", "clean_accuracy"),
            Map.entry("failed_count", "failed"),
            Map.entry("untargeted_success_rate_low", "untargeted_success_low"),
            Map.entry("untargeted_success_rate_high", "untargeted_success_high"),
            Map.entry("targeted_success_rate_low", "targeted_success_low"),
            Map.entry("targeted_success_rate_high", "targeted_success_high"),
            Map.entry("untargeted_success_rate_on_correct_low", "untargeted_success_on_correct_low"),
            Map.entry("untargeted_success_rate_on_correct_high", "untargeted_success_on_correct_high"),
            Map.entry("targeted_success_rate_on_correct_low", "targeted_success_on_correct_low"),
            Map.entry("targeted_success_rate_on_correct_high", "targeted_success_on_correct_high"));

    /** The value of {@code column}, or of its old name in a summary written before the rename. */
    private static Object get(Map<String, Object> r, String column) {
        if (r.containsKey(column)) {
            return r.get(column);
        }
        String old = OLD_SUMMARY_NAMES.get(column);
        return old == null ? null : r.get(old);
    }

    private static String str(Map<String, Object> r, String column) {
        Object v = get(r, column);
        return v == null ? "" : v.toString();
    }

    private static Number num(Map<String, Object> r, String column) {
        return get(r, column) instanceof Number n ? n : 0L;
    }

    /** A double column; NaN when absent or null (a summary written before the column existed). */
    private static double dbl(Map<String, Object> r, String column) {
        return get(r, column) instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    /** The rate {@code <name>} with its interval {@code <name>_low}, {@code <name>_high}. */
    private static Leaderboard.Rate rate(Map<String, Object> r, String name) {
        return new Leaderboard.Rate(dbl(r, name), dbl(r, name + "_low"), dbl(r, name + "_high"));
    }

    /** Mean wall_ms over each attack's error-free records; empty when the round has none (or no wall_ms column). */
    private static Map<String, Double> msPerImage(Storage storage, Configuration conf, String roundUri) {
        String records = RoundLayout.at(roundUri).records();
        Map<String, double[]> sums = new LinkedHashMap<>();
        try {
            if (!RoundState.hasDataFiles(storage, records)) {
                return Map.of();
            }
            for (Map<String, Object> r : ParquetRows.read(storage, conf, records)) {
                if (r.get("error") == null && r.get("wall_ms") instanceof Number ms) {
                    double[] s = sums.computeIfAbsent(str(r, "attack"), k -> new double[2]);
                    s[0] += ms.doubleValue();
                    s[1]++;
                }
            }
        } catch (IOException e) {
            return Map.of();
        }
        Map<String, Double> out = new LinkedHashMap<>();
        sums.forEach((a, s) -> out.put(a, s[0] / s[1]));
        return out;
    }
}
