package io.advspark.attack.filter;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;

/** A filter applied to the perturbation delta after each step (low-pass, ...). */
public interface PerturbationFilter {
    NDArray apply(NDArray delta, StepContext ctx);

    String spec();
}
