package io.advspark.attack.update;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.ArrayList;
import java.util.List;

/**
 * The momentum family, one rule with three switches:
 *
 * <ul>
 *   <li>MI-FGSM (Dong et al., CVPR 2018): {@code m = mu m + g / ||g||_1}, direction sign(m);
 *       defaults mu = 1.0, T = 10, step eps/T.
 *   <li>NI-FGSM (Lin et al., ICLR 2020, "SI-NI-FGSM"): the gradient is taken at the Nesterov
 *       look-ahead {@code x + alpha mu m}; mu = 1.0.
 *   <li>VMI / VNI-FGSM (Wang and He, CVPR 2021, variance tuning): the gradient used is
 *       {@code g + v}, where {@code v} is the previous step's variance
 *       {@code (1/N) sum_i g(x + r_i) - g(x)}, r_i uniform in [-beta eps, beta eps]^d;
 *       defaults N = 20, beta = 1.5.
 * </ul>
 *
 * The L1 norm is the per-image mean absolute value (the official code's reduce_mean(abs)),
 * floored at 1e-12 so a zero gradient gives a zero step instead of NaN. With {@code mu = 0} MI is
 * I-FGSM on the normalised gradient (the same signs as I-FGSM).
 *
 * @param decay mu
 * @param nesterov take the gradient at the look-ahead point
 * @param neighbours N for variance tuning, 0 = off
 * @param beta radius of the neighbourhood in units of eps
 */
public record Momentum(double decay, boolean nesterov, int neighbours, double beta) implements UpdateRule {
    // Shared by the four entries below (declared first: static fields initialise in order).
    static final Param DECAY = Param.dbl("decay", 1.0, 0, 100,
            "momentum decay mu: m = mu m + g / mean abs(g) per image")
            .style(Param.Style.INTEGRAL);
    private static final Param NEIGHBOURS = Param.integer("n", 20, 1, 1000,
            "neighbours sampled per step for the variance term")
            .from("neighbours");
    private static final Param BETA = Param.dbl("beta", 1.5, 0, 100,
            "neighbourhood: uniform in beta x eps around the iterate")
            .style(Param.Style.INTEGRAL);

    public static final Entry<Momentum> MI = Entry.of(Kind.UPDATE, "mi", Momentum.class)
            .summary("Momentum iterative FGSM: m = mu m + g / mean abs(g) per image, step along sign(m)")
            .paper("Dong et al., \"Boosting Adversarial Attacks with Momentum\", CVPR 2018")
            .param(DECAY)
            .describes(m -> !m.nesterov() && m.neighbours() == 0)
            .build(s -> new Momentum(s.dbl("decay"), false, 0, 0));

    public static final Entry<Momentum> NI = Entry.of(Kind.UPDATE, "ni", Momentum.class)
            .summary("Nesterov momentum: MI with the gradient taken at the look-ahead x + alpha mu m")
            .paper("Lin et al., \"Nesterov Accelerated Gradient and Scale Invariance for Adversarial Attacks\", ICLR 2020")
            .param(DECAY)
            .describes(m -> m.nesterov() && m.neighbours() == 0)
            .build(s -> new Momentum(s.dbl("decay"), true, 0, 0));

    public static final Entry<Momentum> VMI = Entry.of(Kind.UPDATE, "vmi", Momentum.class)
            .summary("Variance-tuned MI: the gradient is corrected by the mean gradient of n neighbours of the previous iterate")
            .paper("Wang and He, \"Enhancing the Transferability of Adversarial Attacks through Variance Tuning\", CVPR 2021")
            .param(DECAY)
            .param(NEIGHBOURS)
            .param(BETA)
            .randomised()
            .describes(m -> !m.nesterov() && m.neighbours() > 0)
            .build(s -> new Momentum(s.dbl("decay"), false, s.integer("n"), s.dbl("beta")));

    public static final Entry<Momentum> VNI = Entry.of(Kind.UPDATE, "vni", Momentum.class)
            .summary("Variance-tuned NI: NI with the variance correction of vmi")
            .paper("Wang and He, \"Enhancing the Transferability of Adversarial Attacks through Variance Tuning\", CVPR 2021")
            .param(DECAY)
            .param(NEIGHBOURS)
            .param(BETA)
            .randomised()
            .describes(m -> m.nesterov() && m.neighbours() > 0)
            .build(s -> new Momentum(s.dbl("decay"), true, s.integer("n"), s.dbl("beta")));

    @Override
    public UpdateRule.State start(NDArray clean, NDManager manager) {
        return new S(manager.zeros(clean.getShape(), clean.getDataType()), null);
    }

    @Override
    public NDArray gradientPoint(NDArray x, UpdateRule.State state, StepContext ctx) {
        ((S) state).current = x; // variance tuning samples around the iterate itself
        if (!nesterov) {
            return x;
        }
        return x.add(((S) state).m.mul((float) (ctx.alpha01() * decay)));
    }

    @Override
    public int points() {
        return Math.max(1, neighbours);
    }

    @Override
    public NDArray direction(NDArray grad, UpdateRule.State state, StepContext ctx, GradientOracle oracle) {
        S s = (S) state;
        NDArray g = s.v == null ? grad : grad.add(s.v);
        long n = g.getShape().get(0);
        NDArray l1 = meanAbs(g);
        NDArray next = s.m.mul((float) decay).add(g.div(l1));
        s.m = next;
        if (neighbours > 0) {
            s.v = variance(grad, ctx, oracle, s);
        }
        return next.sign();
    }

    /**
     * (1/N) sum_i g(x_t + r_i) - g(x_t), sampled around the iterate the gradient was taken at: all N
     * neighbours' noise drawn first (neighbour by neighbour, each row from its image's stream),
     * then their gradients in one batched call.
     */
    private NDArray variance(NDArray grad, StepContext ctx, GradientOracle oracle, S s) {
        List<NDArray> points = uniformNeighbours(s.current, neighbours, (float) (beta * ctx.eps01()), ctx,
                grad.getManager());
        NDArray sum = null;
        for (NDArray gi : oracle.at(points)) {
            sum = sum == null ? gi : sum.add(gi);
        }
        return sum.div((float) neighbours).sub(grad);
    }

    /**
     * {@code count} points {@code x + r}, r uniform in [-radius01, radius01) per element, drawn
     * point by point (each row from its image's stream), in {@code scratch}, the step's manager
     * (the gradient's), so they are freed with the step while x lives for the batch. The
     * neighbourhood of every sampling rule (VMI/VNI, PGN, GRA, MEF).
     */
    static List<NDArray> uniformNeighbours(NDArray x, int count, float radius01, StepContext ctx, NDManager scratch) {
        int rows = (int) x.getShape().get(0);
        int per = (int) (x.size() / rows);
        List<NDArray> points = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            points.add(scratch.create(ctx.draws().uniform(rows, per, -radius01, radius01), x.getShape()).add(x));
        }
        return points;
    }

    /**
     * Per image mean |g| (the official MI code's reduce_mean(abs)), floored at 1e-12 so a zero
     * gradient gives a zero step instead of NaN; shaped [N,1,1,1]. Shared by the momentum rules.
     */
    static NDArray meanAbs(NDArray g) {
        long n = g.getShape().get(0);
        return g.abs().reshape(n, -1).mean(new int[] {1}, true).maximum(1e-12f).reshape(n, 1, 1, 1);
    }

    /** Momentum, variance, and the iterate of this step (for sampling neighbours). */
    static final class S implements UpdateRule.State {
        NDArray m;
        NDArray v;
        NDArray current;

        S(NDArray m, NDArray v) {
            this.m = m;
            this.v = v;
        }

        @Override
        public NDArray momentum() {
            return m;
        }

        @Override
        public NDArray variance() {
            return v;
        }

        @Override
        public void select(java.util.function.UnaryOperator<NDArray> rows) {
            m = rows.apply(m);
            v = v == null ? null : rows.apply(v);
        }

        @Override
        public void attach(NDManager manager) {
            m.attach(manager);
            if (v != null) {
                v.attach(manager);
            }
        }
    }
}
