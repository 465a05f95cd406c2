package io.advspark.attack.update;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.List;
import java.util.Map;

/**
 * GRA, the gradient relevance attack (Zhu, Ren, Sang, Zhang and Wang, "Boosting Adversarial
 * Transferability via Gradient Relevance Attack", ICCV 2023): the current gradient is mixed with
 * the mean gradient of N neighbours in proportion to their cosine relevance, accumulated as MI
 * momentum, and the sign step is damped elementwise where the momentum's sign keeps flipping:
 *
 * <pre>
 *   g      = grad(x_t)
 *   g_sam  = (1/N) sum_i grad(x_t + r_i),  r_i uniform in [-beta eps, beta eps]^d
 *   s      = cos(g, g_sam)                             (per image)
 *   g_w    = s g + (1 - s) g_sam
 *   m+     = mu m + g_w / ||g_w||_1
 *   M+     = M * (1 where sign(m+) = sign(m), else eta)   (elementwise decay indicator)
 *   x+     = clip(x_t + alpha M+ sign(m+))
 * </pre>
 *
 * so the direction handed to the engine (which steps {@code x + alpha direction}) is
 * {@code M+ sign(m+)}. M starts at 1/eta everywhere, so the first step, whose old momentum is 0
 * (sign 0), is taken with M = 1. Defaults N = 20, beta = 3.5, eta = 0.94, mu = 1.0: the authors'
 * code (RYC-98/GRA {@code GRA_v3.py}: number 20, beta 3.5, M_0 = 10/9.4, factor 0.94) and
 * TransferAttack's {@code gradient/gra.py} (beta 3.5, num_neighbor 20, eta 0.94, M_0 = 1/eta).
 * ||.||_1 is the per-image mean absolute value, as in {@link Momentum}.
 *
 * <p>M is the rule's extra state, {@code extras()} key {@code "indicator"}, so observers and the
 * parity dump see it. Departures from both codes: the cosine's denominator is floored at 1e-30
 * and the L1 norm at 1e-12, so an image with an all-zero gradient takes a zero step instead of
 * NaN; eta is a parameter (both codes hard-code 0.94). TransferAttack passes the momentum to its
 * input transform; no input transform here reads it.
 *
 * <p>Gradients per step: the engine's gradient at x_t (which is g), then the N neighbours' in one
 * {@link GradientOracle#at(List)} call. Draw order per step, from each image's stream: the input
 * transforms' draws of g; then the N neighbours' noise, neighbour by neighbour (each all of an
 * image's d values, {@link io.advspark.attack.Draws#uniform}); then the input transforms' draws of
 * the neighbours' gradients, in order.
 *
 * @param decay mu
 * @param neighbours N, sampled points per step
 * @param beta radius of the neighbourhood in units of eps
 * @param eta attenuation of the decay indicator where the momentum's sign flips
 */
public record GradientRelevance(double decay, int neighbours, double beta, double eta) implements UpdateRule {
    static final String INDICATOR = "indicator";

    public static final Entry<GradientRelevance> DECLARATION = Entry.of(Kind.UPDATE, "gra", GradientRelevance.class)
            .summary("Gradient relevance: MI on s g + (1-s) mean of n neighbour gradients (s their cosine), "
                    + "steps damped by eta where the momentum's sign flips")
            .paper("Zhu et al., \"Boosting Adversarial Transferability via Gradient Relevance Attack\", ICCV 2023")
            .param(Momentum.DECAY)
            .param(Param.integer("n", 20, 1, 1000,
                    "neighbours sampled per step for the mean gradient")
                    .from("neighbours"))
            .param(Param.dbl("beta", 3.5, 0, 100,
                    "neighbourhood: uniform in beta x eps around the iterate")
                    .style(Param.Style.INTEGRAL))
            .param(Param.dbl("eta", 0.94, 0.01, 1,
                    "decay indicator: a pixel's step is multiplied by eta each time its momentum sign flips")
                    .style(Param.Style.INTEGRAL))
            .randomised()
            .build(s -> new GradientRelevance(s.dbl("decay"), s.integer("n"), s.dbl("beta"), s.dbl("eta")));

    @Override
    public UpdateRule.State start(NDArray clean, NDManager manager) {
        NDArray m = manager.zeros(clean.getShape(), clean.getDataType());
        NDArray indicator = manager.full(clean.getShape(), (float) (1.0 / eta), clean.getDataType());
        return new S(m, indicator);
    }

    @Override
    public NDArray gradientPoint(NDArray x, UpdateRule.State state, StepContext ctx) {
        ((S) state).current = x; // the neighbours are sampled around the iterate
        return x;
    }

    @Override
    public int points() {
        return neighbours;
    }

    @Override
    public NDArray direction(NDArray grad, UpdateRule.State state, StepContext ctx, GradientOracle oracle) {
        S s = (S) state;
        // The step's scratch manager (the engine's gradients live there): the points die with it.
        NDManager scratch = grad.getManager();
        List<NDArray> points = Momentum.uniformNeighbours(s.current, neighbours, (float) (beta * ctx.eps01()), ctx, scratch);
        NDArray sum = null;
        for (NDArray gi : oracle.at(points)) {
            sum = sum == null ? gi : sum.add(gi);
        }
        NDArray sampled = sum.div((float) neighbours);
        NDArray rel = cosine(grad, sampled);
        NDArray weighted = grad.mul(rel).add(sampled.mul(rel.neg().add(1f)));
        NDArray next = s.m.mul((float) decay).add(weighted.div(Momentum.meanAbs(weighted)));
        NDArray agree = next.sign().eq(s.m.sign());
        NDArray factor = NDArrays.where(agree, scratch.ones(grad.getShape()), scratch.full(grad.getShape(), (float) eta));
        s.indicator = s.indicator.mul(factor);
        s.m = next;
        return s.indicator.mul(next.sign());
    }

    /** Per image cosine of a and b, [N,1,1,1]; 0 where either is all zeros. */
    private static NDArray cosine(NDArray a, NDArray b) {
        long n = a.getShape().get(0);
        NDArray a2 = a.reshape(n, -1);
        NDArray b2 = b.reshape(n, -1);
        NDArray dot = a2.mul(b2).sum(new int[] {1});
        NDArray norms = a2.square().sum(new int[] {1}).sqrt().mul(b2.square().sum(new int[] {1}).sqrt());
        return dot.div(norms.maximum(1e-30f)).reshape(n, 1, 1, 1);
    }

    /** Momentum, decay indicator, and the iterate of this step (the centre of the neighbourhood). */
    static final class S implements UpdateRule.State {
        NDArray m;
        NDArray indicator;
        NDArray current;

        S(NDArray m, NDArray indicator) {
            this.m = m;
            this.indicator = indicator;
        }

        @Override
        public NDArray momentum() {
            return m;
        }

        @Override
        public Map<String, NDArray> extras() {
            return Map.of(INDICATOR, indicator);
        }

        @Override
        public void select(java.util.function.UnaryOperator<NDArray> rows) {
            m = rows.apply(m);
            indicator = rows.apply(indicator);
        }

        @Override
        public void attach(NDManager manager) {
            m.attach(manager);
            indicator.attach(manager);
        }
    }
}
