package io.advspark.attack.loss;

import ai.djl.ndarray.NDArray;
import io.advspark.model.Autograd;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;

/**
 * Margin / CW loss (Carlini and Wagner, S&amp;P 2017, f6): untargeted
 * {@code L = min(max_{j != y} z_j - z_y, kappa)}, targeted {@code L = min(z_t - max_{j != t} z_j,
 * kappa)}, summed over the batch and ascended. Default kappa = infinity (no clamp), as used for
 * transfer attacks; finite kappa stops pushing once the margin is reached.
 *
 * @param targeted toward the target class rather than away from the true one
 * @param kappa confidence cap
 */
public record Margin(boolean targeted, double kappa) implements Loss {
    public static final Entry<Margin> DECLARATION = Entry.of(Kind.LOSS, "margin", Margin.class)
            .alias("cw")
            .summary("Carlini-Wagner margin between the true (or target) logit and the largest other one, capped at kappa")
            .paper("Carlini and Wagner, \"Towards Evaluating the Robustness of Neural Networks\", IEEE S&P 2017")
            .param(Param.bool("targeted", false, "toward the target class rather than away from the true label"))
            .param(Param.dbl("kappa", Double.POSITIVE_INFINITY, 0, Double.POSITIVE_INFINITY,
                    "confidence cap of the margin (default: no cap, not written in the spec)")
                    .omittedAtDefault())
            .build(s -> new Margin(s.bool("targeted"), s.dbl("kappa")));

    @Override
    public NDArray of(NDArray logits, int[] labels0, int[] targets0) {
        int[] cls = targeted ? targets0 : labels0;
        NDArray mask = Logit.oneHot(logits, cls, 1f);
        NDArray own = logits.mul(mask).sum(new int[] {1});
        // Exclude the class itself from the max with a large negative offset.
        NDArray others = logits.sub(mask.mul(1e9f)).max(new int[] {1});
        NDArray margin = targeted ? own.sub(others) : others.sub(own);
        if (!Double.isInfinite(kappa)) {
            // Not minimum(Number): its number is freed before the backward reads it (Autograd#constant).
            margin = margin.minimum(Autograd.scalar(logits.getManager(), (float) kappa));
        }
        return margin.sum();
    }
}
