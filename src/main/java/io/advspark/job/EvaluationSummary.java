package io.advspark.job;

import io.advspark.round.EvalTables;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Row;

/**
 * What {@code advspark evaluate} reports on the terminal: one line per (attack config, defended
 * target), from the summary table's rows ({@link io.advspark.round.EvalTables#SUMMARY}), and each attack config's
 * competition score (the mean over images of {@code scores.score}).
 */
public record EvaluationSummary(
        String roundUri, String scoreSpec, List<Row> rows, java.util.Map<String, Double> roundScores, double seconds,
        Passes passes) {
    public EvaluationSummary {
        rows = List.copyOf(rows);
        roundScores = java.util.Map.copyOf(roundScores);
    }

    /**
     * The cost of the two scoring passes: the clean images (once per image and defended target,
     * whatever the number of attack configs) and the adversarial PNGs (per attack config).
     *
     * @param cleanImages images of the clean pass
     * @param advImages (attack config, image) pairs of the adversarial pass
     * @param variants defended targets each image went through
     * @param attacks attack configs evaluated
     */
    public record Passes(long cleanImages, long advImages, int variants, int attacks, double cleanSeconds,
            double advSeconds) {
        /** Milliseconds per (image, defended target) of the adversarial pass (decode, defenses, forward). */
        public double msPerImageTarget() {
            return 1000 * advSeconds / Math.max(1, advImages * variants);
        }

        /** Seconds that computing the clean predictions per attack config would have added. */
        public double cleanOnceSavingSeconds() {
            return cleanSeconds * Math.max(0, attacks - 1);
        }
    }

    /** The summary row of a target behind a defense chain (canonical spec, e.g. {@code model}). */
    public Row row(String target, String defense) {
        if (roundScores.size() > 1) {
            throw new IllegalStateException("the round has several attack configs: use row(attack, target, defense)");
        }
        return rows.stream().filter(r -> str(r, "target").equals(target) && str(r, "defense").equals(defense)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no summary row for " + target + " [" + defense + "]"));
    }

    /** The summary row of an attack config on a target behind a defense chain. */
    public Row row(String attack, String target, String defense) {
        return rows.stream().filter(r -> str(r, "attack").equals(attack) && str(r, "target").equals(target)
                        && str(r, "defense").equals(defense)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no summary row for " + attack + " on " + target + " [" + defense + "]"));
    }

    /**
     * The value of summary column {@code column} in a row of this summary (rows hold the
     * {@link EvalTables#SUMMARY} columns in order; they are read by name, never by position).
     */
    public static Object get(Row r, String column) {
        return r.get(EvalTables.SUMMARY.index(column));
    }

    public static String str(Row r, String column) {
        return (String) get(r, column);
    }

    /** A double column; NaN for null. */
    public static double dbl(Row r, String column) {
        return get(r, column) instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    public static long count(Row r, String column) {
        return ((Number) get(r, column)).longValue();
    }

    public String render() {
        StringBuilder b = new StringBuilder("advspark evaluation finished\n");
        String attack = null;
        for (Row r : rows) {
            if (!str(r, "attack").equals(attack)) {
                attack = str(r, "attack");
                b.append("  attack ").append(attack).append('\n');
            }
            long failed = count(r, "failed_count");
            b.append(String.format(Locale.ROOT,
                    "    %-28s %-36s clean acc %5.1f%%  untargeted %5.1f%% [%4.1f, %4.1f]  targeted %5.1f%% [%4.1f, %4.1f]"
                            + "  (on correct: %5.1f%%)  score %.3f  n=%d%s%n",
                    str(r, "target"), str(r, "defense"), 100 * dbl(r, "clean_correct_rate"),
                    100 * dbl(r, "untargeted_success_rate"), 100 * dbl(r, "untargeted_success_rate_low"),
                    100 * dbl(r, "untargeted_success_rate_high"), 100 * dbl(r, "targeted_success_rate"),
                    100 * dbl(r, "targeted_success_rate_low"), 100 * dbl(r, "targeted_success_rate_high"),
                    100 * dbl(r, "untargeted_success_rate_on_correct"), dbl(r, "mean_score"), count(r, "image_count"),
                    failed > 0 ? ", " + failed + " failed" : ""));
        }
        for (var e : new java.util.TreeMap<>(roundScores).entrySet()) {
            b.append(String.format(Locale.ROOT, "  score        %.4f %s per image%s%n", e.getValue(), scoreSpec,
                    roundScores.size() > 1 ? " (" + e.getKey() + ")" : ""));
        }
        b.append(String.format(Locale.ROOT, "  time         %.1f s; clean pass %.1f s (%d images x %d defended targets),"
                        + " adversarial pass %.1f s (%d images x %d defended targets, %.1f ms per image and defended target);"
                        + " clean once for %d attack config(s) saved %.1f s%n", seconds, passes.cleanSeconds(), passes.cleanImages(),
                passes.variants(), passes.advSeconds(), passes.advImages(), passes.variants(), passes.msPerImageTarget(),
                passes.attacks(), passes.cleanOnceSavingSeconds()));
        b.append("  tables       ").append(roundUri).append("/{predictions,scores,summary} (Parquet)");
        return b.toString();
    }
}
