package io.advspark.attack.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;

/**
 * Logit loss (Zhao et al., "On Success and Simplicity: A Second Look at Transferable Targeted
 * Attacks", NeurIPS 2021): ascend the target class's logit, {@code L = sum_i z_i[t_i]}; targeted
 * only, no softmax saturation. The paper runs it for many iterations (300).
 */
public record Logit() implements Loss {
    public static final Entry<Logit> DECLARATION = Entry.of(Kind.LOSS, "logit", Logit.class)
            .summary("The target class logit, ascended (targeted)")
            .paper("Zhao, Liu and Larson, \"On Success and Simplicity: A Second Look at Transferable Targeted Attacks\", NeurIPS 2021")
            .build(s -> new Logit());

    @Override
    public NDArray of(NDArray logits, int[] labels0, int[] targets0) {
        return logits.mul(oneHot(logits, targets0, 1f)).sum();
    }

    static NDArray oneHot(NDArray logits, int[] idx, float value) {
        int n = (int) logits.getShape().get(0);
        int c = (int) logits.getShape().get(1);
        float[] w = new float[n * c];
        for (int i = 0; i < n; i++) {
            w[i * c + idx[i]] = value;
        }
        return logits.getManager().create(w, new Shape(n, c));
    }
}
