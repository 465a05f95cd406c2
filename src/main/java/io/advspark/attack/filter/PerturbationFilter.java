package io.advspark.attack.filter;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Catalogue;

/**
 * A linear filter F (low-pass, ...) that shapes the perturbation: the engine keeps a latent
 * iterate z and the models see, and the attack returns, {@code clip(x + F(z - x))} (see
 * {@link io.advspark.attack.AttackEngine}). {@link #apply} must be differentiable (NDArray ops),
 * since the gradient is taken through it, and must not draw random values (it is called for
 * every gradient, including look-ahead and neighbour points).
 */
public interface PerturbationFilter {
    NDArray apply(NDArray delta, StepContext ctx);

    /**
     * The canonical spec, e.g. {@code dct(keep=0.25)}, rendered from the class's catalogue declaration
     * (records and seeds key on it, so it never changes for the same values).
     */
    default String spec() {
        return Catalogue.render(this);
    }
}
