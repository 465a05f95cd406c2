package io.advspark.attack.gradient;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;

/**
 * Per-image L1 normalisation {@code g / mean|g|}, the normalisation MI-FGSM (Dong et al., CVPR
 * 2018) applies before accumulating momentum (the official code's {@code reduce_mean(abs)}),
 * floored at 1e-12 as {@code Momentum} does. For update rules that do not normalise themselves,
 * e.g. to put TI-smoothed gradients on a common scale. No parameters: spec {@code l1}.
 */
public record L1Normalize() implements GradientTransform {
    public static final Entry<L1Normalize> DECLARATION = Entry.of(Kind.GRADIENT, "l1", L1Normalize.class)
            .summary("Divide the gradient by its mean absolute value per image")
            .paper("Dong et al., \"Boosting Adversarial Attacks with Momentum\", CVPR 2018")
            .build(s -> new L1Normalize());

    @Override
    public NDArray apply(NDArray grad, StepContext ctx) {
        long n = grad.getShape().get(0);
        NDArray l1 = grad.abs().reshape(n, -1).mean(new int[] {1}, true).maximum(1e-12f);
        long[] keep = new long[grad.getShape().dimension()];
        java.util.Arrays.fill(keep, 1);
        keep[0] = n;
        return grad.div(l1.reshape(new ai.djl.ndarray.types.Shape(keep)));
    }
}
