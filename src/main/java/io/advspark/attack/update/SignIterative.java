package io.advspark.attack.update;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;

/**
 * Sign of the raw gradient, no state: FGSM (Goodfellow et al., ICLR 2015) when run for one step
 * of size eps, I-FGSM / BIM (Kurakin et al., ICLR-W 2017) when iterated with step eps/T, and the
 * update of PGD (Madry et al., ICLR 2018), which adds a uniform random start.
 */
public record SignIterative(String name) implements UpdateRule {
    public static final Entry<SignIterative> FGSM = Entry.of(Kind.UPDATE, "fgsm", SignIterative.class)
            .summary("Fast gradient sign: one step of size eps along sign(g) (forces steps = 1)")
            .paper("Goodfellow, Shlens and Szegedy, \"Explaining and Harnessing Adversarial Examples\", ICLR 2015")
            .describes(u -> u.name().equals("fgsm"))
            .build(s -> new SignIterative("fgsm"));

    public static final Entry<SignIterative> IFGSM = Entry.of(Kind.UPDATE, "ifgsm", SignIterative.class)
            .alias("bim")
            .summary("Iterative FGSM (BIM): steps along the sign of the raw gradient, step eps/T by default")
            .paper("Kurakin, Goodfellow and Bengio, \"Adversarial Examples in the Physical World\", ICLR Workshop 2017")
            .describes(u -> u.name().equals("ifgsm"))
            .build(s -> new SignIterative("ifgsm"));

    public static final Entry<SignIterative> PGD = Entry.of(Kind.UPDATE, "pgd", SignIterative.class)
            .summary("I-FGSM from a uniform random start in the eps-ball (init = uniform unless another is set)")
            .paper("Madry et al., \"Towards Deep Learning Models Resistant to Adversarial Attacks\", ICLR 2018")
            .describes(u -> u.name().equals("pgd"))
            .build(s -> new SignIterative("pgd"));

    private static final State NONE = new State() {
        @Override
        public NDArray momentum() {
            return null;
        }

        @Override
        public void select(java.util.function.UnaryOperator<NDArray> rows) {}

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
}
