package io.advspark.job;

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
        return rows.stream().filter(r -> r.getString(3).equals(target) && r.getString(4).equals(defense)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no summary row for " + target + " [" + defense + "]"));
    }

    /** The summary row of an attack config on a target behind a defense chain. */
    public Row row(String attack, String target, String defense) {
        return rows.stream().filter(r -> r.getString(1).equals(attack) && r.getString(3).equals(target)
                        && r.getString(4).equals(defense)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no summary row for " + attack + " on " + target + " [" + defense + "]"));
    }

    public String render() {
        StringBuilder b = new StringBuilder("advspark evaluation finished\n");
        String attack = null;
        for (Row r : rows) {
            if (!r.getString(1).equals(attack)) {
                attack = r.getString(1);
                b.append("  attack ").append(attack).append('\n');
            }
            b.append(String.format(Locale.ROOT,
                    "    %-28s %-36s clean acc %5.1f%%  untargeted %5.1f%% [%4.1f, %4.1f]  targeted %5.1f%% [%4.1f, %4.1f]"
                            + "  (on correct: %5.1f%%)  score %.3f  n=%d%s%n",
                    r.getString(3), r.getString(4), 100 * r.getDouble(7), 100 * r.getDouble(8), 100 * r.getDouble(9),
                    100 * r.getDouble(10), 100 * r.getDouble(11), 100 * r.getDouble(12), 100 * r.getDouble(13),
                    100 * r.getDouble(14), r.isNullAt(20) ? Double.NaN : r.getDouble(20), r.getLong(5),
                    r.getLong(22) > 0 ? ", " + r.getLong(22) + " failed" : ""));
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
