package io.advspark.attack.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.advspark.model.Autograd;

/** Helpers of the feature losses: row slices and per-row constants. */
final class FeatureLossSupport {
    private FeatureLossSupport() {}

    /**
     * Rows {@code from .. to} of {@code a} as a new array (a copy when that is all of it), for
     * {@link FeatureProbe.Rows}, whose arrays the engine closes after their micro-batch.
     */
    static NDArray slice(NDArray a, int from, int to) {
        return from == 0 && to == a.getShape().get(0) ? a.duplicate() : a.get(new NDIndex("{}:{}", from, to));
    }

    /**
     * The objective whose tap gradient FIA and NAA aggregate, summed over rows: the softmax
     * probability ({@code prob}) or the logit ({@code logit}) of each row's true class.
     */
    static Loss objective(String which) {
        return (logits, labels0, targets0) -> {
            int n = (int) logits.getShape().get(0);
            int c = (int) logits.getShape().get(1);
            float[] hot = new float[n * c];
            for (int i = 0; i < n; i++) {
                hot[i * c + labels0[i]] = 1f;
            }
            NDManager m = logits.getManager();
            NDArray z = which.equals("prob") ? logits.softmax(1) : logits;
            return z.mul(Autograd.constant(m, hot, new Shape(n, c))).sum();
        };
    }
}
