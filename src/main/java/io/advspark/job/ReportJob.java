package io.advspark.job;

import io.advspark.data.Storage;
import io.advspark.score.Leaderboard;
import io.advspark.vocabulary.ConfigException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** {@code advspark report}: the leaderboard of an evaluated round, from its {@code summary} table. */
public final class ReportJob {
    private ReportJob() {}

    public static String run(SparkSession spark, String roundUri, Leaderboard.Metric metric) {
        String summaryUri = Storage.join(roundUri, "summary");
        try {
            if (!RoundState.hasDataFiles(Storage.of(spark.sparkContext().hadoopConfiguration()), summaryUri)) {
                throw new ConfigException("no summary table at " + summaryUri + ": run `advspark evaluate` for the round"
                        + " (or `attack` on a round that lists targets) first");
            }
        } catch (IOException e) {
            throw new ConfigException("cannot read " + summaryUri + ": " + e.getMessage(), e);
        }
        List<Row> rows = spark.read().parquet(summaryUri)
                .selectExpr("attack", "target", "defense", "images", "clean_accuracy", "untargeted_success_rate",
                        "targeted_success_rate", "mean_score", "score_spec", "round_id")
                .orderBy(org.apache.spark.sql.functions.col("attack"), org.apache.spark.sql.functions.col("target"),
                        org.apache.spark.sql.functions.expr("defense <> 'model'"), org.apache.spark.sql.functions.col("defense"))
                .collectAsList();
        List<Leaderboard.Entry> entries = new ArrayList<>();
        for (Row r : rows) {
            String defense = r.getString(2);
            String variant = defense.equals("model") ? r.getString(1)
                    : defense.replace(" > model", "") + " > " + r.getString(1);
            entries.add(new Leaderboard.Entry(r.getString(0), variant, r.getLong(3), r.getDouble(4), r.getDouble(5),
                    r.getDouble(6), r.isNullAt(7) ? Double.NaN : r.getDouble(7)));
        }
        String title = "advspark leaderboard: round " + (rows.isEmpty() ? "?" : rows.get(0).getString(9)) + " (" + roundUri
                + "), " + (rows.isEmpty() ? "" : rows.get(0).getString(8)) + ", " + (rows.isEmpty() ? 0 : rows.get(0).getLong(3))
                + " images";
        return Leaderboard.render(title, entries, metric);
    }
}
