package io.advspark.attack.update;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MEF, maximin expected flatness (Qiu, Li, Duan, Zhang, Zhang, Zhao and Wang, "Boosting Adversarial
 * Transferability with Low-Cost Optimization via Maximin Expected Flatness", arXiv 2405.16181,
 * IEEE T-IFS; its first version was "Enhancing Adversarial Transferability Through Neighborhood
 * Conditional Sampling", NCS): the gradient of a step is the mean over N random neighbours of the
 * iterate, each shifted along its own inner momentum (the paper's neighbourhood conditional
 * sampling with the previous-gradient approximation of the inner problem), then an outer momentum:
 *
 * <pre>
 *   x_t[k]   = x_t + u_k + xi eps p_k ,   u_k ~ U(-gamma eps, gamma eps)^d,  k = 0..N-1
 *   g_k      = grad J(x_t[k])
 *   p_k     <- g_k / mean|g_k| - mu_in p_k                    (p_k = 0 before the first step)
 *   G_t      = (1/N) sum_k g_k
 *   m_{t+1}  = mu m_t + G_t / mean|G_t| ;  direction sign(m_{t+1})
 * </pre>
 *
 * mean|.| is per image, floored at 1e-12. The points are not clipped to the eps-ball or [0,1]
 * (neither code clips them; VMI's neighbours are unclipped too).
 *
 * <p>Sources: the paper's full text could not be consulted here; the algorithm and the defaults
 * N = 20, gamma = 2, xi = 0.15, mu_in = 0.9, mu = 0.5 are those of the authors' official code
 * (SignedQiu/MEFAttack {@code main.py}, latest version; an earlier version had xi = 0.2) and of
 * TransferAttack's {@code mef.py} ("official arguments"), which agree on every update. Both run 20
 * iterations of 1.6/255 at eps 16/255; the recipe keeps the catalogue's common 10 steps of eps/10.
 *
 * <p>Draws and points: all N noises are drawn before any gradient, point by point (point k's
 * values for row 0, then row 1, ..., each row from its image's stream, row-major like VMI), then
 * all N points go to the oracle in ONE {@link GradientOracle#at(List)} call (input-transform draws
 * consumed point by point in that order). The step's own gradient point is the iterate, whose
 * gradient the rule does not use (it only feeds the observers). The inner momenta are extra
 * state, {@code extras()} keys {@code inner0 .. inner<N-1>} (absent before the first step).
 *
 * @param decay mu, the outer momentum decay
 * @param inner mu_in, the inner momentum decay of each sample's shift
 * @param samples N, neighbours per step
 * @param gamma radius of the uniform neighbourhood, in units of eps
 * @param xi length of each sample's shift along its inner momentum, in units of eps
 */
public record ExpectedFlatness(double decay, double inner, int samples, double gamma, double xi) implements UpdateRule {
    public static final Entry<ExpectedFlatness> MEF = Entry.of(Kind.UPDATE, "mef", ExpectedFlatness.class)
            .summary("Maximin expected flatness: momentum on the mean gradient of n uniform neighbours (gamma eps),"
                    + " each shifted xi eps along its own inner momentum")
            .paper("Qiu et al., \"Boosting Adversarial Transferability with Low-Cost Optimization via Maximin Expected"
                    + " Flatness\", arXiv 2405.16181 (IEEE T-IFS)")
            .param(Param.dbl("decay", 0.5, 0, 100, "outer momentum decay mu: m = mu m + G / mean abs(G) per image")
                    .style(Param.Style.INTEGRAL))
            .param(Param.dbl("inner", 0.9, 0, 100, "inner momentum decay: p_k = g_k / mean abs(g_k) - inner p_k")
                    .style(Param.Style.INTEGRAL))
            .param(Param.integer("n", 20, 1, 1000, "neighbours sampled per step").from("samples"))
            .param(Param.dbl("gamma", 2.0, 0, 100, "neighbourhood: uniform in gamma x eps around the iterate")
                    .style(Param.Style.INTEGRAL))
            .param(Param.dbl("xi", 0.15, 0, 100, "shift of each neighbour along its inner momentum, in eps")
                    .style(Param.Style.INTEGRAL))
            .randomised()
            .build(s -> new ExpectedFlatness(s.dbl("decay"), s.dbl("inner"), s.integer("n"), s.dbl("gamma"), s.dbl("xi")));

    static final String INNER = "inner";

    public ExpectedFlatness {
        if (samples < 1) {
            throw new IllegalArgumentException("mef needs n >= 1 neighbours, got " + samples);
        }
    }

    @Override
    public UpdateRule.State start(NDArray clean, NDManager manager) {
        return new S(manager.zeros(clean.getShape(), clean.getDataType()), samples);
    }

    @Override
    public NDArray gradientPoint(NDArray x, UpdateRule.State state, StepContext ctx) {
        ((S) state).current = x;
        return x;
    }

    @Override
    public int points() {
        return samples;
    }

    @Override
    public NDArray direction(NDArray grad, UpdateRule.State state, StepContext ctx, GradientOracle oracle) {
        S s = (S) state;
        NDManager scratch = grad.getManager();
        float shift = (float) (xi * ctx.eps01());
        List<NDArray> points = Momentum.uniformNeighbours(s.current, samples, (float) (gamma * ctx.eps01()), ctx, scratch);
        for (int k = 0; k < samples; k++) {
            if (s.p[k] != null) {
                points.set(k, points.get(k).add(EnhancedMomentum.scratchAlias(s.p[k], scratch).mul(shift)));
            }
        }
        List<NDArray> grads = oracle.at(points);
        NDArray sum = null;
        NDArray[] next = new NDArray[samples];
        for (int k = 0; k < samples; k++) {
            NDArray g = grads.get(k);
            NDArray unit = g.div(Momentum.meanAbs(g));
            next[k] = s.p[k] == null ? unit : unit.sub(EnhancedMomentum.scratchAlias(s.p[k], scratch).mul((float) inner));
            sum = sum == null ? g : sum.add(g);
        }
        NDArray mean = sum.div((float) samples);
        NDArray m = EnhancedMomentum.scratchAlias(s.m, scratch).mul((float) decay)
                .add(mean.div(Momentum.meanAbs(mean)));
        s.m = m;
        s.p = next;
        return m.sign();
    }

    /** Outer momentum, the samples' inner momenta, and the iterate of this step. */
    static final class S implements UpdateRule.State {
        NDArray m;
        NDArray[] p;
        NDArray current;

        S(NDArray m, int samples) {
            this.m = m;
            this.p = new NDArray[samples];
        }

        @Override
        public NDArray momentum() {
            return m;
        }

        @Override
        public Map<String, NDArray> extras() {
            Map<String, NDArray> out = new LinkedHashMap<>();
            for (int k = 0; k < p.length; k++) {
                if (p[k] != null) {
                    out.put(INNER + k, p[k]);
                }
            }
            return out;
        }

        @Override
        public void select(java.util.function.UnaryOperator<NDArray> rows) {
            m = rows.apply(m);
            for (int k = 0; k < p.length; k++) {
                p[k] = p[k] == null ? null : rows.apply(p[k]);
            }
        }

        @Override
        public void attach(NDManager manager) {
            m.attach(manager);
            for (NDArray a : p) {
                if (a != null) {
                    a.attach(manager);
                }
            }
        }
    }
}
