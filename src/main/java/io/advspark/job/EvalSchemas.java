package io.advspark.job;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createArrayType;
import static org.apache.spark.sql.types.DataTypes.createStructField;

import java.util.List;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Schemas of the evaluation tables under {@code <output>/<round>/}: {@code predictions},
 * {@code scores}, {@code summary} (documented in README.md#evaluation). {@code predictions} and
 * {@code scores} are written partitioned by {@code attack} ({@code attack=<name>/} folders). Labels are in the
 * dataset's convention (label-base), like the records table; norms in 0..255 units.
 */
public final class EvalSchemas {
    private EvalSchemas() {}

    /** Executor output of one pass: one row per (image, target, defense), for clean or adversarial images. */
    static final StructType PASS = new StructType(List.of(
                    createStructField("attack", StringType, true),
                    createStructField("image_id", StringType, false),
                    createStructField("target", StringType, false),
                    createStructField("defense", StringType, false),
                    createStructField("top1", IntegerType, true),
                    createStructField("top5", createArrayType(IntegerType, false), true),
                    createStructField("linf", IntegerType, true),
                    createStructField("l2", DoubleType, true),
                    createStructField("psnr", DoubleType, true),
                    createStructField("error", StringType, true))
            .toArray(new StructField[0]));

    public static final StructType PREDICTIONS = new StructType(List.of(
                    createStructField("round_id", StringType, false),
                    createStructField("attack", StringType, false),
                    createStructField("attack_spec", StringType, false),
                    createStructField("image_id", StringType, false),
                    createStructField("target", StringType, false),
                    createStructField("defense", StringType, false),
                    createStructField("true_label", IntegerType, false),
                    createStructField("target_label", IntegerType, false),
                    createStructField("clean_top1", IntegerType, true),
                    createStructField("clean_top5", createArrayType(IntegerType, false), true),
                    createStructField("adv_top1", IntegerType, true),
                    createStructField("adv_top5", createArrayType(IntegerType, false), true),
                    createStructField("clean_correct", BooleanType, true),
                    createStructField("clean_top5_correct", BooleanType, true),
                    createStructField("untargeted_success", BooleanType, true),
                    createStructField("targeted_success", BooleanType, true),
                    createStructField("adv_top5_true", BooleanType, true),
                    createStructField("adv_top5_target", BooleanType, true),
                    createStructField("linf", IntegerType, true),
                    createStructField("score", DoubleType, true),
                    createStructField("score_spec", StringType, false),
                    createStructField("error", StringType, true))
            .toArray(new StructField[0]));

    public static final StructType SCORES = new StructType(List.of(
                    createStructField("round_id", StringType, false),
                    createStructField("attack", StringType, false),
                    createStructField("attack_spec", StringType, false),
                    createStructField("image_id", StringType, false),
                    createStructField("linf", IntegerType, true),
                    createStructField("l2", DoubleType, true),
                    createStructField("psnr", DoubleType, true),
                    createStructField("targets", IntegerType, false),
                    createStructField("score", DoubleType, true),
                    createStructField("score_spec", StringType, false))
            .toArray(new StructField[0]));

    public static final StructType SUMMARY = new StructType(List.of(
                    createStructField("round_id", StringType, false),
                    createStructField("attack", StringType, false),
                    createStructField("attack_spec", StringType, false),
                    createStructField("target", StringType, false),
                    createStructField("defense", StringType, false),
                    createStructField("images", LongType, false),
                    createStructField("clean_correct", LongType, false),
                    createStructField("clean_accuracy", DoubleType, false),
                    createStructField("untargeted_success_rate", DoubleType, false),
                    createStructField("untargeted_success_low", DoubleType, false),
                    createStructField("untargeted_success_high", DoubleType, false),
                    createStructField("targeted_success_rate", DoubleType, false),
                    createStructField("targeted_success_low", DoubleType, false),
                    createStructField("targeted_success_high", DoubleType, false),
                    createStructField("untargeted_success_rate_on_correct", DoubleType, false),
                    createStructField("untargeted_success_on_correct_low", DoubleType, false),
                    createStructField("untargeted_success_on_correct_high", DoubleType, false),
                    createStructField("targeted_success_rate_on_correct", DoubleType, false),
                    createStructField("targeted_success_on_correct_low", DoubleType, false),
                    createStructField("targeted_success_on_correct_high", DoubleType, false),
                    createStructField("mean_score", DoubleType, true),
                    createStructField("score_spec", StringType, false),
                    createStructField("failed", LongType, false))
            .toArray(new StructField[0]));
}
