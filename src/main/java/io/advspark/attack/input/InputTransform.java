package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;

/**
 * A per-iteration transformation of the iterate before the surrogates see it (DI, SI, Admix,
 * ...). It must be differentiable, or document a straight-through gradient.
 */
public interface InputTransform {
    /** Transforms {@code x}, which is in the autograd graph. */
    NDArray apply(NDArray x);

    String spec();
}
