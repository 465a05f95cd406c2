package io.advspark.job;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;

import java.util.List;
import org.apache.spark.sql.types.StructType;

/**
 * Schema of {@code <output>/<round>/records}: one row per manifest row. Documented field by
 * field in README.md#tables. Labels are in the dataset's own convention (label-base); norms are
 * of the written PNG in 0..255 units. {@code error} is null for attacked images; for a failed
 * image only the identifying columns, {@code error} and the provenance columns are set. New
 * columns go at the end: the writers build rows positionally.
 */
public final class RecordSchema {
    private RecordSchema() {}

    public static final StructType SCHEMA = new StructType(List.of(
                    createStructField("round_id", StringType, false),
                    createStructField("attack_spec", StringType, false),
                    createStructField("image_id", StringType, false),
                    createStructField("manifest_row", IntegerType, false),
                    createStructField("true_label", IntegerType, true),
                    createStructField("target_label", IntegerType, true),
                    createStructField("clean_pred", IntegerType, true),
                    createStructField("adv_pred", IntegerType, true),
                    createStructField("clean_correct", BooleanType, true),
                    createStructField("untargeted_success", BooleanType, true),
                    createStructField("targeted_success", BooleanType, true),
                    createStructField("linf", IntegerType, true),
                    createStructField("l2", DoubleType, true),
                    createStructField("steps", IntegerType, true),
                    createStructField("batch_size", IntegerType, true),
                    createStructField("wall_ms", LongType, true),
                    createStructField("executor_id", StringType, true),
                    createStructField("device", StringType, true),
                    createStructField("output_file", StringType, true),
                    createStructField("error", StringType, true),
                    // Integrity of the written PNG, checked by a resume (null on error rows).
                    createStructField("png_bytes", LongType, true),
                    createStructField("png_crc32c", LongType, true),
                    // What the image was made with (see Provenance): a resume refuses other values.
                    createStructField("model_sha256", StringType, true),
                    createStructField("card_sha256", StringType, true),
                    createStructField("surrogate_settings", StringType, true),
                    createStructField("manifest_sha256", StringType, true))
            .toArray(new org.apache.spark.sql.types.StructField[0]));

    /** {@code <round>/attacks}: one row per attack configuration (README "Tables"). */
    public static final StructType ATTACKS = new StructType(List.of(
                    createStructField("attack", StringType, false),
                    createStructField("attack_spec", StringType, false),
                    createStructField("eps", DoubleType, false),
                    createStructField("steps", IntegerType, false),
                    createStructField("step_size", DoubleType, false),
                    createStructField("update", StringType, false),
                    createStructField("input", StringType, false),
                    createStructField("gradient", StringType, false),
                    createStructField("loss", StringType, false),
                    createStructField("init", StringType, false),
                    createStructField("filter", StringType, false),
                    createStructField("ensemble", StringType, false),
                    createStructField("objective", StringType, false),
                    createStructField("copies", IntegerType, false),
                    createStructField("augment", StringType, false),
                    createStructField("model_sha256", StringType, false),
                    createStructField("card_sha256", StringType, false),
                    createStructField("surrogate_settings", StringType, false),
                    createStructField("manifest_sha256", StringType, false))
            .toArray(new org.apache.spark.sql.types.StructField[0]));
}
