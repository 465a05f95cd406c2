package io.advspark.round;

import static io.advspark.round.ColumnType.BOOLEAN;
import static io.advspark.round.ColumnType.DOUBLE;
import static io.advspark.round.ColumnType.INT;
import static io.advspark.round.ColumnType.LONG;
import static io.advspark.round.ColumnType.STRING;

/**
 * The tables an attack writes under {@code <output>/<round>/}: {@code records} (one row per
 * manifest row and attack) and {@code attacks} (one row per attack configuration), documented
 * column by column in docs/tables.md. Labels are in the dataset's own convention (label-base);
 * norms are of the written PNG in 0..255 units. For a failed image only the identifying columns,
 * {@code error} and the provenance columns are set. New columns go at the end.
 */
public final class RecordTables {
    private RecordTables() {}

    /** {@code <round>/records}: one row per (manifest row, attack); see {@link AttackRecord}. */
    public static final TableSchema RECORDS = TableSchema.of("records",
            Column.required("round_id", STRING),
            Column.required("attack_spec", STRING),
            Column.required("image_id", STRING),
            Column.required("manifest_row", INT),
            Column.optional("true_label", INT),
            Column.optional("target_label", INT),
            Column.optional("clean_pred", INT),
            Column.optional("adv_pred", INT),
            Column.optional("clean_correct", BOOLEAN),
            Column.optional("untargeted_success", BOOLEAN),
            Column.optional("targeted_success", BOOLEAN),
            Column.optional("linf", INT),
            Column.optional("l2", DOUBLE),
            Column.optional("steps", INT),
            Column.optional("batch_size", INT),
            Column.optional("wall_ms", LONG),
            Column.optional("executor_id", STRING),
            Column.optional("device", STRING),
            Column.optional("output_file", STRING),
            Column.optional("error", STRING),
            // Integrity of the written PNG, checked by a resume (null on error rows).
            Column.optional("png_bytes", LONG),
            Column.optional("png_crc32c", LONG),
            // What the image was made with (see Provenance): a resume refuses other values.
            Column.optional("model_sha256", STRING),
            Column.optional("card_sha256", STRING),
            Column.optional("surrogate_settings", STRING),
            Column.optional("manifest_sha256", STRING),
            // Steps at which the image's gradient was exactly zero (null on error rows and in
            // files written before the column existed).
            Column.optional("zero_gradient_steps", INT),
            // The budget the PNG was attacked at (attack.eps, or the one a search chose), and the
            // early-exit checks the image took part in (0 without attack.stop); steps above is
            // the steps it ran.
            Column.optional("eps", DOUBLE),
            Column.optional("stop_checks", INT),
            // Whether the written PNG meets the objective on the set attack.search (else
            // attack.stop) judges on; null without either.
            Column.optional("met", BOOLEAN),
            // A search's own rows: "<eps>:<0|1>" per budget attempted, in walk order, and the steps
            // of all its attempts (its cost); null elsewhere.
            Column.optional("search", STRING),
            Column.optional("search_steps", INT));

    /** {@code <round>/attacks}: one row per attack configuration. */
    public static final TableSchema ATTACKS = TableSchema.of("attacks",
            Column.required("attack", STRING),
            Column.required("attack_spec", STRING),
            Column.required("eps", DOUBLE),
            Column.required("steps", INT),
            Column.required("step_size", DOUBLE),
            Column.required("update", STRING),
            Column.optional("input", STRING),
            Column.optional("gradient", STRING),
            Column.required("loss", STRING),
            Column.required("init", STRING),
            Column.optional("filter", STRING),
            Column.required("ensemble", STRING),
            Column.required("objective", STRING),
            Column.required("copies", INT),
            Column.optional("augment", STRING),
            Column.required("model_sha256", STRING),
            Column.required("card_sha256", STRING),
            Column.required("surrogate_settings", STRING),
            Column.required("manifest_sha256", STRING),
            // The format the surrogates computed in (fp32, bf16, fp16; see Provenance#precision).
            Column.optional("precision", STRING));
}
