package io.advspark.round;

import static io.advspark.round.ColumnType.BOOLEAN;
import static io.advspark.round.ColumnType.DOUBLE;
import static io.advspark.round.ColumnType.INT;
import static io.advspark.round.ColumnType.INT_ARRAY;
import static io.advspark.round.ColumnType.LONG;
import static io.advspark.round.ColumnType.STRING;
import static io.advspark.round.ColumnType.STRING_ARRAY;

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
            Column.optional("adv_vote_margin", DOUBLE),
            // The defense chain structured: stage names and each stage's parameters (null when
            // none), in application order, without the final model (empty for the undefended one).
            Column.required("defense_names", STRING_ARRAY),
            Column.required("defense_params", STRING_ARRAY));

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

    /**
     * One row per (attack config, defended target). Rates are fractions 0..1, each with its Wilson
     * 95% interval as {@code <name>_rate}, {@code <name>_rate_low}, {@code <name>_rate_high}; counts
     * end in {@code _count}. A derived table, rewritten whole by each evaluate: its columns are
     * read by name: {@code job.EvaluationSummary} (evaluate's terminal lines) and
     * {@code job.ReportJob} (the report's mapping to leaderboard entries, which also reads the
     * names of summaries written before this schema).
     */
    public static final TableSchema SUMMARY = TableSchema.of("summary",
            Column.required("round_id", STRING),
            Column.required("attack", STRING),
            Column.required("attack_spec", STRING),
            // The attack config's budget (0..255) and iterations; null for scored foreign PNGs.
            Column.optional("eps", DOUBLE),
            Column.optional("steps", INT),
            Column.required("target", STRING),
            Column.required("defense", STRING),
            Column.required("defense_names", STRING_ARRAY),
            Column.required("defense_params", STRING_ARRAY),
            Column.required("image_count", LONG),
            Column.required("clean_correct_count", LONG),
            Column.required("clean_correct_rate", DOUBLE),
            Column.required("clean_correct_rate_low", DOUBLE),
            Column.required("clean_correct_rate_high", DOUBLE),
            Column.required("untargeted_success_rate", DOUBLE),
            Column.required("untargeted_success_rate_low", DOUBLE),
            Column.required("untargeted_success_rate_high", DOUBLE),
            Column.required("targeted_success_rate", DOUBLE),
            Column.required("targeted_success_rate_low", DOUBLE),
            Column.required("targeted_success_rate_high", DOUBLE),
            Column.required("untargeted_success_rate_on_correct", DOUBLE),
            Column.required("untargeted_success_rate_on_correct_low", DOUBLE),
            Column.required("untargeted_success_rate_on_correct_high", DOUBLE),
            Column.required("targeted_success_rate_on_correct", DOUBLE),
            Column.required("targeted_success_rate_on_correct_low", DOUBLE),
            Column.required("targeted_success_rate_on_correct_high", DOUBLE),
            Column.optional("mean_score", DOUBLE),
            Column.required("score_spec", STRING),
            Column.required("failed_count", LONG));
}
