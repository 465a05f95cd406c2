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
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code advspark report}: the leaderboard of an evaluated round, from its {@code summary} table,
 * with each attack's mean wall time per image from its {@code records} (rows without an error).
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
        return run(spark, roundUri, metric, markdown ? "markdown" : "table", intervals);
    }

    /** @param format table (terminal), markdown, csv or json (one line per attack and defended target) */
    public static String run(SparkSession spark, String roundUri, Leaderboard.Metric metric, String format,
            boolean intervals) {
        Storage storage = Storage.of(spark.sparkContext().hadoopConfiguration());
        String summaryUri = Storage.join(roundUri, "summary");
        try {
            if (!RoundState.hasDataFiles(storage, summaryUri)) {
                throw new ConfigException("no summary table at " + summaryUri + ": run `advspark evaluate` for the round"
                        + " (or `attack` on a round that lists targets) first");
            }
        } catch (IOException e) {
            throw new ConfigException("cannot read " + summaryUri + ": " + e.getMessage(), e);
        }
        List<Row> rows = spark.read().parquet(summaryUri)
                .selectExpr("attack", "target", "defense", "images", "clean_accuracy", "untargeted_success_rate",
                        "targeted_success_rate", "mean_score", "score_spec", "round_id", "clean_correct",
                        "untargeted_success_low", "untargeted_success_high", "targeted_success_low", "targeted_success_high",
                        "untargeted_success_rate_on_correct", "untargeted_success_on_correct_low",
                        "untargeted_success_on_correct_high", "targeted_success_rate_on_correct",
                        "targeted_success_on_correct_low", "targeted_success_on_correct_high")
                .orderBy(org.apache.spark.sql.functions.col("attack"), org.apache.spark.sql.functions.col("target"),
                        org.apache.spark.sql.functions.expr("defense <> 'model'"), org.apache.spark.sql.functions.col("defense"))
                .collectAsList();
        List<Leaderboard.Entry> entries = new ArrayList<>();
        for (Row r : rows) {
            String defense = r.getString(2);
            String variant = defense.equals("model") ? r.getString(1)
                    : defense.replace(" > model", "") + " > " + r.getString(1);
            entries.add(new Leaderboard.Entry(r.getString(0), variant, r.getLong(3), r.getLong(10), r.getDouble(4),
                    rate(r, 5, 11, 12), rate(r, 6, 13, 14), rate(r, 15, 16, 17), rate(r, 18, 19, 20),
                    r.isNullAt(7) ? Double.NaN : r.getDouble(7)));
        }
        String title = "advspark leaderboard: round " + (rows.isEmpty() ? "?" : rows.get(0).getString(9)) + " (" + roundUri
                + "), " + (rows.isEmpty() ? "" : rows.get(0).getString(8)) + ", " + (rows.isEmpty() ? 0 : rows.get(0).getLong(3))
                + " images";
        Map<String, Double> ms = msPerImage(spark, storage, roundUri);
        if (format.equals("csv") || format.equals("json")) {
            return Leaderboard.renderLong(title, entries, metric, ms, format.equals("json"));
        }
        return Leaderboard.render(title, entries, metric, new Leaderboard.Style(format.equals("markdown"), intervals, ms));
    }

    private static Leaderboard.Rate rate(Row r, int rate, int low, int high) {
        return new Leaderboard.Rate(r.getDouble(rate), r.getDouble(low), r.getDouble(high));
    }

    /** Mean wall_ms over each attack's error-free records; empty when the round has none (or no wall_ms column). */
    private static Map<String, Double> msPerImage(SparkSession spark, Storage storage, String roundUri) {
        String records = RoundLayout.at(roundUri).records();
        Map<String, Double> out = new LinkedHashMap<>();
        try {
            if (!RoundState.hasDataFiles(storage, records)) {
                return out;
            }
        } catch (IOException e) {
            return out;
        }
        var df = spark.read().parquet(records);
        if (!java.util.Arrays.asList(df.columns()).contains("wall_ms")) {
            return out;
        }
        for (Row r : df.where("error is null").groupBy("attack").agg(org.apache.spark.sql.functions.avg("wall_ms"))
                .collectAsList()) {
            out.put(r.getString(0), r.isNullAt(1) ? Double.NaN : r.getDouble(1));
        }
        return out;
    }
}
