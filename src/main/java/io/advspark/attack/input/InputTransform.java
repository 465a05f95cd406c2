package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Catalogue;

/**
 * A per-iteration transformation of the iterate before the surrogates see it (DI, SI, Admix,
 * ...). It must be differentiable, or document a straight-through gradient.
 *
 * <p>A transform may return several copies of each image (SI's scales, Admix's mixes) stacked
 * along the batch axis: copy j of row i at row {@code j * rows + i}. The engine repeats the
 * labels to match and averages the loss over the copies, so all copies go through the surrogates
 * in one forward pass.
 */
public interface InputTransform {
    /** Transforms {@code x} (in the autograd graph); random draws come from {@code ctx.draws()}. */
    NDArray apply(NDArray x, StepContext ctx);

    /** Copies per input row (1 for transforms that keep the batch size). */
    default int copies() {
        return 1;
    }

    /**
     * The canonical spec, e.g. {@code di(p=0.5,resize=1.1)}, rendered from the class's catalogue declaration
     * (records and seeds key on it, so it never changes for the same values).
     */
    default String spec() {
        return Catalogue.render(this);
    }
}
