package io.advspark.attack.init;

import ai.djl.ndarray.NDArray;

/** x_0 = x: the deterministic start of FGSM, I-FGSM and MI-FGSM. */
public record ZeroInit() implements Initializer {
    @Override
    public NDArray start(NDArray clean, float eps01) {
        return clean.duplicate();
    }

    @Override
    public String spec() {
        return "zeros";
    }
}
