package io.advspark.attack.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.advspark.model.Autograd;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;

/**
 * Weighted untargeted + targeted cross-entropy:
 * {@code L = wu * CE(z, y) - wt * CE(z, t)}, summed over the batch and ascended. Untargeted
 * (wu=1, wt=0) is the FGSM/I-FGSM/MI-FGSM objective (Goodfellow et al. 2015; Kurakin et al.
 * 2017; Dong et al. 2018); targeted (wu=0, wt=1) descends CE towards the target class (Kurakin
 * et al. 2017); weighted sums such as {@code 4*CE(target) - CE(true)} were used by Tianchi 2019
 * winners.
 *
 * <p>Each term is computed as {@code CE(z, c) = log(1 + sum_{j != c} exp(z_j - z_c))} (shifted by a
 * constant so nothing overflows), not as a log-softmax: the textbook gradient {@code p_c - 1}
 * cancels catastrophically once {@code p_c} rounds to 1 in float32, so a confidently classified
 * image's gradient would be rounding noise whose direction changes with the last bit of its
 * logits (and with them its batch-mates). Here the class-{@code c} component is minus the sum of
 * the others, each accurate however small, so a saturated image's gradient is small but true and
 * an image's result does not depend on its batch.
 */
public record CrossEntropy(double untargetedWeight, double targetedWeight) implements Loss {
    public static final Entry<CrossEntropy> DECLARATION = Entry.of(Kind.LOSS, "ce", CrossEntropy.class)
            .summary("Weighted cross-entropy wu CE(true) - wt CE(target), ascended (Tianchi 2019 winners used 4 CE(target) - CE(true))")
            .paper("Kurakin, Goodfellow and Bengio, ICLR Workshop 2017; Dong et al., CVPR 2018")
            .param(Param.dbl("untargeted", 1, -1e6, 1e6,
                    "weight wu of the cross-entropy of the true label (ascended)")
                    .style(Param.Style.INTEGRAL)
                    .from("untargetedWeight"))
            .param(Param.dbl("targeted", 0, -1e6, 1e6,
                    "weight wt of the cross-entropy of the target class (descended)")
                    .style(Param.Style.INTEGRAL)
                    .from("targetedWeight"))
            .build(s -> new CrossEntropy(s.dbl("untargeted"), s.dbl("targeted")));

    @Override
    public NDArray of(NDArray logits, int[] labels0, int[] targets0) {
        NDArray loss = null;
        if (untargetedWeight != 0) {
            loss = perRow(logits, labels0).sum().mul(Autograd.scalar(logits.getManager(), (float) untargetedWeight));
        }
        if (targetedWeight != 0) {
            NDArray t = perRow(logits, targets0).sum().mul(Autograd.scalar(logits.getManager(), (float) -targetedWeight));
            loss = loss == null ? t : loss.add(t);
        }
        return loss == null ? logits.sum().mul(Autograd.scalar(logits.getManager(), 0f)) : loss;
    }

    /**
     * {@code -log softmax(z)_c} per row ({@code [N]}), with a gradient that stays accurate when
     * {@code softmax(z)_c} rounds to 1 (see the class comment).
     */
    public static NDArray perRow(NDArray logits, int[] classes0) {
        int n = (int) logits.getShape().get(0);
        int c = (int) logits.getShape().get(1);
        float[] hot = new float[n * c];
        float[] others = new float[n * c];
        java.util.Arrays.fill(others, 1f);
        for (int i = 0; i < n; i++) {
            hot[i * c + classes0[i]] = 1f;
            others[i * c + classes0[i]] = 0f;
        }
        NDManager m = logits.getManager();
        NDArray zc = logits.mul(Autograd.constant(m, hot, new Shape(n, c))).sum(new int[] {1}, true);
        NDArray d = logits.sub(zc);
        // The shift max(0, max_j d_j) (d_c is exactly 0) is a constant: a gradient through it
        // would be 1 - s/s, i.e. rounding noise.
        NDArray shift = d.stopGradient().max(new int[] {1}, true);
        NDArray others0 = d.sub(shift).exp().mul(Autograd.constant(m, others, new Shape(n, c))).sum(new int[] {1});
        NDArray general = others0.add(shift.neg().exp().squeeze(1)).log().add(shift.squeeze(1));
        // Unshifted rows (c leads) take log(1 + S), S = sum_{j != c} exp(z_j - z_c); below 1e-4 the
        // series S - S^2/2 (error under S^3/3, below float32's resolution) instead of log of 1 + S,
        // which rounds to 0 or a multiple of 2^-24 there: an accurate value, not just an accurate
        // gradient (AdaEA weighs members by ratios of these losses).
        NDArray small = shift.squeeze(1).eq(0f).logicalAnd(others0.stopGradient().lt(1e-4f));
        NDArray series = others0.sub(others0.mul(others0).mul(Autograd.scalar(m, 0.5f)));
        return NDArrays.where(small, series, general);
    }
}
