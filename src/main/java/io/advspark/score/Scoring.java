package io.advspark.score;

import io.advspark.vocabulary.Catalogue;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.List;

/**
 * A competition's score: a value per (image, defended target), and how an image's values over
 * the targets combine ({@link #perImage}). Presets, chosen by spec ({@code evaluate.score}), are
 * the nested records' catalogue declarations; docs/scores.md lists them.
 */
public interface Scoring extends java.io.Serializable {
    /** The score of one image against one (defended) target. */
    double perTarget(Outcome o);

    /** An image's score from its per-target scores (mean or sum, by the competition). */
    double perImage(List<Double> perTarget);

    /**
     * The canonical spec, e.g. {@code tianchi2019(eps=32)}, rendered from the class's catalogue declaration
     * (records and seeds key on it, so it never changes for the same values).
     */
    default String spec() {
        return Catalogue.render(this);
    }

    /** The L-inf budget (0..255) above which an image scores 0, or infinity when the preset has none. */
    default double budgetPixels() {
        return Double.POSITIVE_INFINITY;
    }

    /** The preset {@code text} names; presets are the catalogue's {@link Kind#SCORE} entries. */
    static Scoring parse(String text) {
        return Catalogue.create(Kind.SCORE, text, Scoring.class);
    }

    private static double mean(List<Double> v) {
        return v.isEmpty() ? 0 : v.stream().mapToDouble(Double::doubleValue).sum() / v.size();
    }

    record Tianchi2019(double eps) implements Scoring {
        public static final Entry<Tianchi2019> DECLARATION = Entry.of(Kind.SCORE, "tianchi2019", Tianchi2019.class)
                .summary("Per target 0 if still the true label, 2 (2 - d/eps) for another label, 5 (2 - d/eps) for the target"
                        + " class (d: L-inf in 0..255; over the budget: 0); mean over the targets")
                .paper("Tianchi Security AI Challenger phase 2 (2019), as reconstructed by participants"
                        + " (quqixun/AdversarialAttack, src/attack_score.py)")
                .param(Param.dbl("eps", 32, 1, 255, "the budget d is scored against, in 0..255")
                        .style(Param.Style.INTEGRAL))
                .build(s -> new Tianchi2019(s.dbl("eps")));

        @Override
        public double perTarget(Outcome o) {
            if (o.linf() > eps || !o.untargetedSuccess()) {
                return 0;
            }
            double factor = 2 - o.linf() / eps;
            return (o.targetedSuccess() ? 5 : 2) * factor;
        }

        @Override
        public double perImage(List<Double> v) {
            return mean(v);
        }

        @Override
        public double budgetPixels() {
            return eps;
        }
    }

    record Nips2017(boolean targeted) implements Scoring {
        public static final Entry<Nips2017> DECLARATION = Entry.of(Kind.SCORE, "nips2017", Nips2017.class)
                .summary("One point per defended target fooled (targeted: made to predict the target class), summed over"
                        + " the targets")
                .paper("Kurakin et al., \"Adversarial Attacks and Defences Competition\", NIPS 2017 competition track")
                .param(Param.bool("targeted", false, "count the target class instead of any misclassification"))
                .build(s -> new Nips2017(s.bool("targeted")));

        @Override
        public double perTarget(Outcome o) {
            return (targeted ? o.targetedSuccess() : o.untargetedSuccess()) ? 1 : 0;
        }

        @Override
        public double perImage(List<Double> v) {
            return v.stream().mapToDouble(Double::doubleValue).sum();
        }

    }

    record Asr(boolean targeted) implements Scoring {
        public static final Entry<Asr> DECLARATION = Entry.of(Kind.SCORE, "asr", Asr.class)
                .summary("Attack success rate: 1/0 per (image, target), the mean over the targets")
                .paper(Entry.NO_PAPER)
                .param(Param.bool("targeted", false, "count the target class instead of any misclassification"))
                .build(s -> new Asr(s.bool("targeted")));

        @Override
        public double perTarget(Outcome o) {
            return (targeted ? o.targetedSuccess() : o.untargetedSuccess()) ? 1 : 0;
        }

        @Override
        public double perImage(List<Double> v) {
            return mean(v);
        }

    }
}
