package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.advspark.data.Storage;
import io.advspark.round.EvalTables;
import io.advspark.score.Leaderboard;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code advspark report} reads the summary by column name, in its current and its earlier schema. */
class ReportJobTest {

    /** The summary's columns as written before issue 18 (images, clean_correct, untargeted_success_low, ...). */
    private static final StructType OLD_SUMMARY = new StructType(new StructField[] {
        field("round_id", DataTypes.StringType), field("attack", DataTypes.StringType),
        field("attack_spec", DataTypes.StringType), field("target", DataTypes.StringType),
        field("defense", DataTypes.StringType), field("images", DataTypes.LongType),
        field("clean_correct", DataTypes.LongType), field("clean_accuracy", DataTypes.DoubleType),
        field("untargeted_success_rate", DataTypes.DoubleType), field("untargeted_success_low", DataTypes.DoubleType),
        field("untargeted_success_high", DataTypes.DoubleType), field("targeted_success_rate", DataTypes.DoubleType),
        field("targeted_success_low", DataTypes.DoubleType), field("targeted_success_high", DataTypes.DoubleType),
        field("untargeted_success_rate_on_correct", DataTypes.DoubleType),
        field("untargeted_success_on_correct_low", DataTypes.DoubleType),
        field("untargeted_success_on_correct_high", DataTypes.DoubleType),
        field("targeted_success_rate_on_correct", DataTypes.DoubleType),
        field("targeted_success_on_correct_low", DataTypes.DoubleType),
        field("targeted_success_on_correct_high", DataTypes.DoubleType),
        field("mean_score", DataTypes.DoubleType), field("score_spec", DataTypes.StringType),
        field("failed", DataTypes.LongType)});

    private static StructField field(String name, org.apache.spark.sql.types.DataType type) {
        return DataTypes.createStructField(name, type, true);
    }

    @Test
    void aSummaryWrittenWithTheOldColumnNamesStillReports(@TempDir Path dir) throws Exception {
        Configuration conf = new Configuration();
        String round = dir.resolve("old-round").toUri().toString();
        List<Row> rows = List.of(
                RowFactory.create("old-round", "mi", "eps=8 steps=10", "tiny_c", "model", 48L, 40L, 40 / 48.0,
                        0.5, 0.36, 0.64, 0.125, 0.06, 0.25, 0.55, 0.4, 0.7, 0.1, 0.04, 0.23, 12.5, "tianchi2019", 0L),
                RowFactory.create("old-round", "mi", "eps=8 steps=10", "tiny_c", "jpeg(quality=75) > model", 48L, 36L,
                        0.75, 0.25, 0.15, 0.39, 0.0, 0.0, 0.07, 0.3, 0.17, 0.46, 0.0, 0.0, 0.1, 30.0, "tianchi2019", 0L));
        ParquetFiles.write(Storage.of(conf), Storage.join(Storage.join(round, "summary"), "part-00000.parquet"),
                OLD_SUMMARY, rows);

        String csv = ReportJob.run(conf, round, Leaderboard.Metric.UNTARGETED_ON_CORRECT, "csv", true);
        List<String> lines = csv.lines().filter(l -> l.startsWith("1,mi,")).toList();
        assertEquals(List.of("1,mi,tiny_c,48,40,83.3333,untargeted-on-correct,55.0000,40.0000,70.0000,42.5000,",
                "1,mi,jpeg(quality=75) > tiny_c,48,36,75.0000,untargeted-on-correct,30.0000,17.0000,46.0000,42.5000,"), lines, csv);
        String table = ReportJob.run(conf, round, Leaderboard.Metric.SCORE, "table", false);
        assertEquals(true, table.contains("48 images"), table);
    }

    @Test
    void theCurrentNamesMapToTheSameEntryAsTheOldOnes() {
        Map<String, Object> current = new HashMap<>();
        Map<String, Object> old = new HashMap<>();
        for (String c : List.of("round_id", "attack", "attack_spec", "target", "defense", "score_spec")) {
            current.put(c, c.equals("defense") ? "model" : c);
            old.put(c, current.get(c));
        }
        double v = 0.01;
        for (var col : EvalTables.SUMMARY.columns()) {
            String oldName = ReportJob.OLD_SUMMARY_NAMES.getOrDefault(col.name(), col.name());
            Object value = switch (col.type()) {
                case LONG -> (long) (100 * (v += 0.01));
                case DOUBLE -> v += 0.01;
                default -> null;
            };
            if (value != null) {
                current.put(col.name(), value);
                old.put(oldName, value);
            }
        }
        Leaderboard.Entry e = ReportJob.entry(current);
        assertEquals(e, ReportJob.entry(old));
        assertEquals(((Number) current.get("image_count")).longValue(), e.images());
        assertEquals((double) current.get("untargeted_success_rate_on_correct_high"), e.untargetedOnCorrect().high());
        assertEquals((double) current.get("clean_correct_rate"), e.cleanAccuracy());
        for (String renamed : ReportJob.OLD_SUMMARY_NAMES.keySet()) {
            EvalTables.SUMMARY.index(renamed); // every renamed column is a current one
        }
    }
}
