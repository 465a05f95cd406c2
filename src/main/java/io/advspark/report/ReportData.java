package io.advspark.report;

import io.advspark.data.RgbImage;
import io.advspark.score.Leaderboard;
import java.util.List;
import java.util.Map;

/**
 * Everything the HTML page shows, read from a round's tables by {@code job.ReportJob}.
 *
 * @param header what the page is about
 * @param entries the summary rows, as the terminal leaderboard has them
 * @param metric what the leaderboard's cells show
 * @param style intervals and each attack's ms/image, as in the terminal leaderboard
 * @param attacks one per attack config of the {@code attacks} table (may miss configs of older rounds)
 * @param norms one per error-free record: the written PNG's norms
 * @param samples the image grid
 */
public record ReportData(Header header, List<Leaderboard.Entry> entries, Leaderboard.Metric metric,
        Leaderboard.Style style, List<AttackInfo> attacks, List<Norm> norms, Samples samples) {

    public ReportData {
        entries = List.copyOf(entries);
        attacks = List.copyOf(attacks);
        norms = List.copyOf(norms);
    }

    /**
     * @param generated when the page was made (ISO-8601, UTC)
     * @param version the advspark that made it
     */
    public record Header(String roundId, String roundUri, String scoreSpec, long images, String generated, String version) {}

    /**
     * An attack config's budget and what it is made of besides the budget.
     *
     * @param eps 0..255 units
     * @param family equal for configs that differ only in eps (and the step size derived from it): an eps sweep
     */
    public record AttackInfo(String attack, double eps, String family) {}

    /** The norms of one written PNG, 0..255 units. */
    public record Norm(String attack, int linf, double l2) {}

    /**
     * The images of the grid: the same few images for every attack shown.
     *
     * @param images the chosen images with their clean picture (null when the dataset is unknown)
     * @param attacks the attacks shown, in order
     * @param adversarial keyed by attack, then image id
     * @param note why images or attacks are missing ("" when none)
     */
    public record Samples(List<Image> images, List<String> attacks, Map<String, Map<String, Adversarial>> adversarial,
            String note) {
        public static Samples none(String note) {
            return new Samples(List.of(), List.of(), Map.of(), note);
        }
    }

    /** One image of the grid: its manifest labels and clean picture (null when it could not be read). */
    public record Image(String imageId, Integer trueLabel, Integer targetLabel, RgbImage clean) {}

    /**
     * One adversarial PNG of the grid.
     *
     * @param surrogatePred the surrogate ensemble's top-1 on it ({@code records.adv_pred})
     * @param targetPreds each defended target's top-1 on it, keyed by the leaderboard's column name
     * @param image the decoded PNG, or null when it could not be read
     */
    public record Adversarial(Integer surrogatePred, Map<String, Integer> targetPreds, int linf, double l2, RgbImage image) {}
}
