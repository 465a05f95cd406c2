package io.advspark.attack.init;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;

/** x_0 = x: the deterministic start of FGSM, I-FGSM and MI-FGSM. */
public record ZeroInit() implements Initializer {
    @Override
    public NDArray start(StepContext ctx) {
        return ctx.clean().duplicate();
    }

    @Override
    public String spec() {
        return "zeros";
    }
}
