package io.advspark.job;

import java.util.List;
import java.util.Locale;

/**
 * What a finished round reports on the terminal. Counts are of (image, attack config) rows of
 * the round's current attack configurations, whether attacked by this run or committed earlier.
 *
 * @param roundUri where the outputs are
 * @param images record rows
 * @param failed rows recorded with an error
 * @param untargetedSuccessRate over attacked images (white-box, on the surrogates)
 * @param targetedSuccessRate over attacked images
 * @param meanL2 mean L2 of the written perturbation, 0..255 units
 * @param maxLinf max L-inf of the written perturbation, 0..255 units
 * @param seconds wall time of the round (after start-up)
 * @param resumed rows committed by an earlier run and skipped by this one
 * @param attacks the same figures per attack configuration, in configuration order
 * @param timings where this run's task time went, or null when it attacked nothing
 */
public record RoundSummary(
        String roundUri,
        long images,
        long failed,
        double untargetedSuccessRate,
        double targetedSuccessRate,
        double meanL2,
        int maxLinf,
        double seconds,
        long resumed,
        List<Line> attacks,
        RunMetrics.Timings timings) {

    public RoundSummary {
        attacks = List.copyOf(attacks);
    }

    public RoundSummary(String roundUri, long images, long failed, double untargetedSuccessRate, double targetedSuccessRate,
            double meanL2, int maxLinf, double seconds, long resumed, List<Line> attacks) {
        this(roundUri, images, failed, untargetedSuccessRate, targetedSuccessRate, meanL2, maxLinf, seconds, resumed, attacks,
                null);
    }

    /**
     * The round's figures from its per-attack lines: counts add up; success rates and mean L2 are
     * over the attacked (error-free) rows of all attacks, so each line weighs by its attacked rows.
     */
    public static RoundSummary of(String roundUri, double seconds, long resumed, List<Line> lines) {
        long images = 0;
        long failed = 0;
        double untargeted = 0;
        double targeted = 0;
        double l2 = 0;
        int linf = 0;
        for (Line l : lines) {
            long ok = l.images() - l.failed();
            images += l.images();
            failed += l.failed();
            untargeted += ok * l.untargetedSuccessRate();
            targeted += ok * l.targetedSuccessRate();
            l2 += ok * l.meanL2();
            linf = Math.max(linf, l.maxLinf());
        }
        long attacked = Math.max(1, images - failed);
        return new RoundSummary(roundUri, images, failed, untargeted / attacked, targeted / attacked, l2 / attacked, linf,
                seconds, resumed, lines);
    }

    /** The same figures timed over {@code wallSeconds} (the command's wall time, JVM start to summary). */
    public RoundSummary withSeconds(double wallSeconds) {
        return new RoundSummary(roundUri, images, failed, untargetedSuccessRate, targetedSuccessRate, meanL2, maxLinf,
                wallSeconds, resumed, attacks, timings);
    }

    public RoundSummary withTimings(RunMetrics.Timings t) {
        return new RoundSummary(roundUri, images, failed, untargetedSuccessRate, targetedSuccessRate, meanL2, maxLinf, seconds,
                resumed, attacks, t);
    }

    /**
     * One attack configuration's figures; {@code zeroGradientImages} attacked images had an all-zero
     * gradient at some step, {@code unchanged} were written with L-inf 0.
     */
    public record Line(String attack, long images, long failed, double untargetedSuccessRate,
            double targetedSuccessRate, double meanL2, int maxLinf, long zeroGradientImages, long unchanged,
            ScoreAware scoreAware) {

        public Line(String attack, long images, long failed, double untargetedSuccessRate, double targetedSuccessRate,
                double meanL2, int maxLinf, long zeroGradientImages, long unchanged) {
            this(attack, images, failed, untargetedSuccessRate, targetedSuccessRate, meanL2, maxLinf, zeroGradientImages,
                    unchanged, null);
        }

        public Line(String attack, long images, long failed, double untargetedSuccessRate, double targetedSuccessRate,
                double meanL2, int maxLinf) {
            this(attack, images, failed, untargetedSuccessRate, targetedSuccessRate, meanL2, maxLinf, 0, 0);
        }
    }

    /**
     * An attack with {@code attack.stop} or {@code attack.search}: the share of its images whose PNG
     * met the objective on the stopping set, their mean budget and the steps they cost (all
     * attempts of a search).
     */
    public record ScoreAware(double metRate, double meanEps, double stepsPerImage) {}

    public String render() {
        long attacked = images - failed;
        long ran = Math.max(0, attacked - resumed);
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                "advspark round finished%n"
                        + "  images       %d attacked, %d failed (see the error column)%s%n"
                        + "  success      untargeted %.1f%%, targeted %.1f%% (white-box, on the surrogates)%n"
                        + "  perturbation mean L2 %.1f, max L-inf %d (0..255)%n"
                        + "  time         %.1f s (%.2f images/s attacked by this run)%n",
                attacked, failed, resumed > 0 ? ", " + resumed + " of them committed by an earlier run (skipped)" : "",
                100 * untargetedSuccessRate, 100 * targetedSuccessRate, meanL2, maxLinf,
                seconds, ran / Math.max(seconds, 1e-9)));
        long zeroGradient = attacks.stream().mapToLong(Line::zeroGradientImages).sum();
        long unchanged = attacks.stream().mapToLong(Line::unchanged).sum();
        if (zeroGradient > 0 || unchanged > 0) {
            // A flat or underflowed loss leaves an image where it started: say so beside the maximum.
            b.append(String.format(Locale.ROOT,
                    "  warning      %d images had an all-zero gradient at some step (records' zero_gradient_steps);"
                            + " %d were written unchanged (L-inf 0)%n", zeroGradient, unchanged));
        }
        if (attacks.size() > 1) {
            b.append(String.format(Locale.ROOT, "  %-28s %7s %7s %11s %9s %8s %6s%n", "attack", "images", "failed",
                    "untargeted", "targeted", "mean L2", "L-inf"));
            for (Line l : attacks) {
                b.append(String.format(Locale.ROOT, "  %-28s %7d %7d %10.1f%% %8.1f%% %8.1f %6d%n", l.attack(),
                        l.images() - l.failed(), l.failed(), 100 * l.untargetedSuccessRate(), 100 * l.targetedSuccessRate(),
                        l.meanL2(), l.maxLinf()));
            }
        }
        for (Line l : attacks) {
            if (l.scoreAware() != null) {
                b.append(String.format(Locale.ROOT, "  score-aware  %s: %.1f%% met the objective on the stopping set;"
                        + " mean budget %.1f (0..255); %.1f steps per image%n", l.attack(), 100 * l.scoreAware().metRate(),
                        l.scoreAware().meanEps(), l.scoreAware().stepsPerImage()));
            }
        }
        if (timings != null) {
            b.append(timings.render());
        }
        b.append(String.format(Locale.ROOT, "  images       %s/images/<attack>/%n  records      %s/records (Parquet)",
                roundUri, roundUri));
        return b.toString();
    }
}
