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
        Summary summary = summary(storage, conf, roundUri);
        Map<String, Double> ms = msPerImage(records(storage, conf, roundUri));
        if (format.equals("csv") || format.equals("json")) {
            return Leaderboard.renderLong(summary.title(roundUri), summary.entries(), metric, ms, format.equals("json"));
        }
        return Leaderboard.render(summary.title(roundUri), summary.entries(), metric,
                new Leaderboard.Style(format.equals("markdown"), intervals, ms));
    }

    /**
     * A round's summary table as leaderboard entries, with what its header shows.
     *
     * @param roundId "?" and {@code scoreSpec} "" when the table has no rows
     */
    public record Summary(List<Leaderboard.Entry> entries, String roundId, String scoreSpec, long images) {
        String title(String roundUri) {
            return "advspark leaderboard: round " + roundId + " (" + roundUri + "), " + scoreSpec + ", " + images + " images";
        }
    }

    /**
     * The summary table read and mapped to {@link Leaderboard.Entry}: the ONE place that knows the
     * summary's column names (the terminal, Markdown, CSV, JSON and HTML reports all read it here).
     */
    static Summary summary(Storage storage, Configuration conf, String roundUri) {
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
        return new Summary(entries, rows.isEmpty() ? "?" : str(first, "round_id"), rows.isEmpty() ? "" : str(first, "score_spec"),
                rows.isEmpty() ? 0 : num(first, "image_count").longValue());
    }

    /**
     * The leaderboard entry of one summary row. Reads the current names
     * ({@link io.advspark.round.EvalTables#SUMMARY}) and, for a summary written by an earlier
     * version, their old names ({@link #OLD_SUMMARY_NAMES}).
     */
    static Leaderboard.Entry entry(Map<String, Object> r) {
        return new Leaderboard.Entry(str(r, "attack"), variant(str(r, "target"), str(r, "defense")),
                num(r, "image_count").longValue(), num(r, "clean_correct_count").longValue(), dbl(r, "clean_correct_rate"),
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

    /** The leaderboard's column name of a defended target: {@code tiny_c}, or {@code jpeg(quality=75) > tiny_c}. */
    static String variant(String target, String defense) {
        return defense.equals("model") ? target : defense.replace(" > model", "") + " > " + target;
    }

    static String str(Map<String, Object> r, String column) {
        Object v = get(r, column);
        return v == null ? "" : v.toString();
    }

    static Number num(Map<String, Object> r, String column) {
        return get(r, column) instanceof Number n ? n : 0L;
    }

    /** A double column; NaN when absent or null (a summary written before the column existed). */
    static double dbl(Map<String, Object> r, String column) {
        return get(r, column) instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    /** The rate {@code <name>} with its interval {@code <name>_low}, {@code <name>_high}. */
    private static Leaderboard.Rate rate(Map<String, Object> r, String name) {
        return new Leaderboard.Rate(dbl(r, name), dbl(r, name + "_low"), dbl(r, name + "_high"));
    }

    /** The rows of the round's {@code records} table; empty when it has none or cannot be read (the report then has no cost column). */
    static List<Map<String, Object>> records(Storage storage, Configuration conf, String roundUri) {
        String records = RoundLayout.at(roundUri).records();
        try {
            if (!RoundState.hasDataFiles(storage, records)) {
                return List.of();
            }
            return ParquetRows.read(storage, conf, records);
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Mean wall_ms over each attack's error-free records; empty when the round has none (or no wall_ms column). */
    static Map<String, Double> msPerImage(List<Map<String, Object>> records) {
        Map<String, double[]> sums = new LinkedHashMap<>();
        for (Map<String, Object> r : records) {
            if (r.get("error") == null && r.get("wall_ms") instanceof Number ms) {
                double[] s = sums.computeIfAbsent(str(r, "attack"), k -> new double[2]);
                s[0] += ms.doubleValue();
                s[1]++;
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        sums.forEach((a, s) -> out.put(a, s[0] / s[1]));
        return out;
    }
}
