package io.advspark.attack.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
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
 * <p>Computed as {@code sum(log_softmax(z) * W)} with {@code W = wt*onehot(t) - wu*onehot(y)}:
 * one log-softmax and one backward for both terms.
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
        int n = (int) logits.getShape().get(0);
        int c = (int) logits.getShape().get(1);
        float[] w = new float[n * c];
        for (int i = 0; i < n; i++) {
            if (untargetedWeight != 0) {
                w[i * c + labels0[i]] -= (float) untargetedWeight;
            }
            if (targetedWeight != 0) {
                w[i * c + targets0[i]] += (float) targetedWeight;
            }
        }
        NDArray weights = logits.getManager().create(w, new Shape(n, c));
        return logits.logSoftmax(1).mul(weights).sum();
    }
}
