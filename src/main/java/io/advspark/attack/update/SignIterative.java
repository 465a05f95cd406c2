package io.advspark.attack.update;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.advspark.attack.StepContext;

/**
 * Sign of the raw gradient, no state: FGSM (Goodfellow et al., ICLR 2015) when run for one step
 * of size eps, I-FGSM / BIM (Kurakin et al., ICLR-W 2017) when iterated with step eps/T, and the
 * update of PGD (Madry et al., ICLR 2018), which adds a uniform random start.
 */
public record SignIterative(String name) implements UpdateRule {
    private static final State NONE = new State() {
        @Override
        public NDArray momentum() {
            return null;
        }

        @Override
        public void attach(NDManager manager) {}
    };

    @Override
    public State start(NDArray clean, NDManager manager) {
        return NONE;
    }

    @Override
    public NDArray direction(NDArray grad, State state, StepContext ctx, GradientOracle oracle) {
        return grad.sign();
    }

    @Override
    public String spec() {
        return name;
    }
}
