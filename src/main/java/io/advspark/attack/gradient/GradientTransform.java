package io.advspark.attack.gradient;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Catalogue;

/** A transformation of the input gradient before the update rule (TI smoothing, ...). */
public interface GradientTransform {
    NDArray apply(NDArray grad, StepContext ctx);

    /**
     * The canonical spec, e.g. {@code ti(kernel=gaussian,size=15,sigma=3.0)}, rendered from the class's catalogue declaration
     * (records and seeds key on it, so it never changes for the same values).
     */
    default String spec() {
        return Catalogue.render(this);
    }
}
