package io.advspark.attack.gradient;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;

/** A transformation of the input gradient before the update rule (TI smoothing, ...). */
public interface GradientTransform {
    NDArray apply(NDArray grad, StepContext ctx);

    String spec();
}
