package io.advspark.round;

import static io.advspark.round.ColumnType.BOOLEAN;
import static io.advspark.round.ColumnType.DOUBLE;
import static io.advspark.round.ColumnType.INT;
import static io.advspark.round.ColumnType.INT_ARRAY;
import static io.advspark.round.ColumnType.LONG;
import static io.advspark.round.ColumnType.STRING;

/**
 * The tables {@code evaluate} writes under {@code <output>/<round>/}: {@code predictions} and
 * {@code scores} (partitioned by {@code attack}, {@code attack=<name>/} folders) and
 * {@code summary}; {@code PASS} is the executors' output of one scoring pass, not written. Labels
 * are in the dataset's convention (label-base), like the records table; norms in 0..255 units.
 */
public final class EvalTables {
    private EvalTables() {}

    /** Executor output of one pass: one row per (image, target, defense), for clean or adversarial images. */
    public static final TableSchema PASS = TableSchema.of("pass",
            Column.optional("attack", STRING),
            Column.required("image_id", STRING),
            Column.required("target", STRING),
            Column.required("defense", STRING),
            Column.optional("top1", INT),
            Column.optional("top5", INT_ARRAY),
            Column.optional("linf", INT),
            Column.optional("l2", DOUBLE),
            Column.optional("psnr", DOUBLE),
            Column.optional("error", STRING),
            Column.optional("vote_margin", DOUBLE));

    public static final TableSchema PREDICTIONS = TableSchema.of("predictions",
            Column.required("round_id", STRING),
            Column.required("attack", STRING),
            Column.required("attack_spec", STRING),
            Column.required("image_id", STRING),
            Column.required("target", STRING),
            Column.required("defense", STRING),
            Column.required("true_label", INT),
            Column.required("target_label", INT),
            Column.optional("clean_top1", INT),
            Column.optional("clean_top5", INT_ARRAY),
            Column.optional("adv_top1", INT),
            Column.optional("adv_top5", INT_ARRAY),
            Column.optional("clean_correct", BOOLEAN),
            Column.optional("clean_top5_correct", BOOLEAN),
            Column.optional("untargeted_success", BOOLEAN),
            Column.optional("targeted_success", BOOLEAN),
            Column.optional("adv_top5_true", BOOLEAN),
            Column.optional("adv_top5_target", BOOLEAN),
            Column.optional("linf", INT),
            Column.optional("score", DOUBLE),
            Column.required("score_spec", STRING),
            Column.optional("error", STRING),
            // Randomized smoothing's vote margin (rs stage), null for other chains and in older files.
            Column.optional("clean_vote_margin", DOUBLE),
            Column.optional("adv_vote_margin", DOUBLE));

    public static final TableSchema SCORES = TableSchema.of("scores",
            Column.required("round_id", STRING),
            Column.required("attack", STRING),
            Column.required("attack_spec", STRING),
            Column.required("image_id", STRING),
            Column.optional("linf", INT),
            Column.optional("l2", DOUBLE),
            Column.optional("psnr", DOUBLE),
            Column.required("targets", INT),
            Column.optional("score", DOUBLE),
            Column.required("score_spec", STRING));

    public static final TableSchema SUMMARY = TableSchema.of("summary",
            Column.required("round_id", STRING),
            Column.required("attack", STRING),
            Column.required("attack_spec", STRING),
            Column.required("target", STRING),
            Column.required("defense", STRING),
            Column.required("images", LONG),
            Column.required("clean_correct", LONG),
            Column.required("clean_accuracy", DOUBLE),
            Column.required("untargeted_success_rate", DOUBLE),
            Column.required("untargeted_success_low", DOUBLE),
            Column.required("untargeted_success_high", DOUBLE),
            Column.required("targeted_success_rate", DOUBLE),
            Column.required("targeted_success_low", DOUBLE),
            Column.required("targeted_success_high", DOUBLE),
            Column.required("untargeted_success_rate_on_correct", DOUBLE),
            Column.required("untargeted_success_on_correct_low", DOUBLE),
            Column.required("untargeted_success_on_correct_high", DOUBLE),
            Column.required("targeted_success_rate_on_correct", DOUBLE),
            Column.required("targeted_success_on_correct_low", DOUBLE),
            Column.required("targeted_success_on_correct_high", DOUBLE),
            Column.optional("mean_score", DOUBLE),
            Column.required("score_spec", STRING),
            Column.required("failed", LONG));
}
