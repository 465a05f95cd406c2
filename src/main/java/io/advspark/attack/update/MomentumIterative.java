package io.advspark.attack.update;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.advspark.attack.StepContext;
import java.util.Locale;

/**
 * MI-FGSM (Dong et al., "Boosting Adversarial Attacks with Momentum", CVPR 2018):
 * {@code g_{t+1} = mu * g_t + grad / ||grad||_1}, direction {@code sign(g_{t+1})}. The L1 norm is
 * taken per image as the mean absolute value (the official code's {@code reduce_mean(abs)}),
 * floored at 1e-12 so a zero gradient gives a zero step instead of NaN. Published defaults:
 * {@code mu = 1.0}, 10 iterations, step eps/10. With {@code mu = 0} it is I-FGSM on the
 * normalised gradient (the same signs as I-FGSM/BIM, Kurakin et al. 2017).
 */
public record MomentumIterative(double decay) implements UpdateRule {

    @Override
    public State start(NDArray clean, NDManager manager) {
        NDArray m = manager.zeros(clean.getShape(), clean.getDataType());
        return new Momentum(m);
    }

    @Override
    public NDArray direction(NDArray grad, UpdateRule.State state, StepContext ctx, GradientOracle oracle) {
        Momentum s = (Momentum) state;
        long n = grad.getShape().get(0);
        // DJL's PyTorch mean takes one axis: flatten each image, then restore [N,1,1,1].
        NDArray l1 = grad.abs().reshape(n, -1).mean(new int[] {1}, true).maximum(1e-12f).reshape(n, 1, 1, 1);
        NDArray next = s.m.mul((float) decay).add(grad.div(l1));
        s.m = next;
        return next.sign();
    }

    @Override
    public String spec() {
        return String.format(Locale.ROOT, "mi(decay=%s)", decay == Math.rint(decay) ? Long.toString((long) decay) : Double.toString(decay));
    }

    /** The momentum buffer. */
    static final class Momentum implements UpdateRule.State {
        private NDArray m;

        Momentum(NDArray m) {
            this.m = m;
        }

        @Override
        public NDArray momentum() {
            return m;
        }

        @Override
        public void attach(NDManager manager) {
            m.attach(manager);
        }
    }
}
