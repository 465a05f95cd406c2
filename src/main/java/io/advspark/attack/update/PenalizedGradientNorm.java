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
 * PGN, penalizing the gradient norm (Ge, Liu, Wang, Shang and Liu, "Boosting Adversarial
 * Transferability by Achieving Flat Local Maxima", NeurIPS 2023, Algorithm 1): an MI-FGSM whose
 * gradient is the mean, over N random neighbours of the iterate, of a first-order estimate of the
 * gradient of the loss penalised by its own gradient norm, which favours flat maxima:
 *
 * <pre>
 *   for i in 1..N:
 *     x'_i  = x_t + r_i,  r_i uniform in [-zeta eps, zeta eps]^d
 *     g'_i  = grad(x'_i)
 *     x*_i  = x'_i - alpha g'_i / ||g'_i||
 *     g''_i = grad(x*_i)
 *   g_bar   = (1/N) sum_i [(1 - delta) g'_i + delta g''_i]
 *   m       = mu m + g_bar / ||g_bar||_1 ;  direction sign(m)
 * </pre>
 *
 * Defaults N = 20, delta = 0.5, zeta = 3.0, mu = 1.0 (the paper's settings, also the flags of the
 * authors' code, Trustworthy-AI-Group/PGN {@code Incv3_PGN_Attack.py}, and TransferAttack's
 * {@code gradient/pgn.py}, where delta is called gamma and zeta beta).
 *
 * <p>The look-ahead step: its size alpha is the attack's own step size (alpha = eps/T in the paper
 * and both codes), and ||g'|| is the per-image mean absolute value (the L1 norm divided by d), as
 * in the authors' code and TransferAttack ({@code abs(g1).mean([1,2,3])}), so the look-ahead moves
 * a pixel by about one attack step. (An L2-normalised look-ahead of length alpha would move each
 * pixel by about alpha / sqrt(d), which makes g'' equal to g' in practice; the paper's own text was
 * not available to check which norm its algorithm prints, so the code's is followed.) Norms are
 * floored at 1e-12 so a zero gradient gives a zero step instead of NaN (as in {@link Momentum}).
 *
 * <p>Departure from TransferAttack: its {@code get_averaged_gradient} applies the input transform
 * to x' and then again to {@code transform(x') - alpha g'/||g'||}, so with DI the second gradient
 * is taken at a twice-transformed point. Here x* is formed in pixel space from x' and the input
 * transforms are applied once per gradient, as for every other point; without input transforms
 * the two agree. Neighbours are not clipped to [0,1] or to the eps-ball (neither code does).
 *
 * <p>Gradients per step: the engine's gradient at x_t (computed for every rule, reported to
 * observers; PGN does not use it), then N at the x' points and N at the x* points, each set asked
 * for in one {@link GradientOracle#at(List)} call. Draw order per step, from each image's stream:
 * the input transforms' draws of the gradient at x_t; then the N neighbours' noise, neighbour by
 * neighbour (each all of an image's d values, {@link io.advspark.attack.Draws#uniform}); then the
 * input transforms' draws of the x' gradients in order, then those of the x* gradients in order.
 *
 * @param decay mu
 * @param neighbours N, sampled points per step
 * @param delta balance between the gradient at x' and at the look-ahead x*
 * @param zeta radius of the neighbourhood in units of eps
 */
public record PenalizedGradientNorm(double decay, int neighbours, double delta, double zeta) implements UpdateRule {
    public static final Entry<PenalizedGradientNorm> DECLARATION = Entry.of(Kind.UPDATE, "pgn", PenalizedGradientNorm.class)
            .summary("Penalized gradient norm: MI on the mean over n neighbours of (1-delta) g(x') + delta g(x' - alpha g/mean|g|)")
            .paper("Ge et al., \"Boosting Adversarial Transferability by Achieving Flat Local Maxima\", NeurIPS 2023")
            .param(Momentum.DECAY)
            .param(Param.integer("n", 20, 1, 1000,
                    "neighbours sampled per step (two gradients each)")
                    .from("neighbours"))
            .param(Param.dbl("delta", 0.5, 0, 1,
                    "balanced coefficient: weight of the gradient at the look-ahead point")
                    .style(Param.Style.INTEGRAL))
            .param(Param.dbl("zeta", 3.0, 0, 100,
                    "neighbourhood: uniform in zeta x eps around the iterate")
                    .style(Param.Style.INTEGRAL))
            .randomised()
            .build(s -> new PenalizedGradientNorm(s.dbl("decay"), s.integer("n"), s.dbl("delta"), s.dbl("zeta")));

    @Override
    public UpdateRule.State start(NDArray clean, NDManager manager) {
        return new S(manager.zeros(clean.getShape(), clean.getDataType()));
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
        List<NDArray> near = Momentum.uniformNeighbours(s.current, neighbours, (float) (zeta * ctx.eps01()), ctx,
                grad.getManager());
        List<NDArray> g1 = oracle.at(near);
        List<NDArray> star = new ArrayList<>(neighbours);
        for (int i = 0; i < neighbours; i++) {
            NDArray g = g1.get(i);
            star.add(near.get(i).sub(g.div(Momentum.meanAbs(g)).mul(ctx.alpha01())));
        }
        List<NDArray> g2 = oracle.at(star);
        NDArray sum = null;
        for (int i = 0; i < neighbours; i++) {
            NDArray gi = g1.get(i).mul((float) (1 - delta)).add(g2.get(i).mul((float) delta));
            sum = sum == null ? gi : sum.add(gi);
        }
        NDArray mean = sum.div((float) neighbours);
        NDArray next = s.m.mul((float) decay).add(mean.div(Momentum.meanAbs(mean)));
        s.m = next;
        return next.sign();
    }


    /** Momentum, and the iterate of this step (the centre of the neighbourhood). */
    static final class S implements UpdateRule.State {
        NDArray m;
        NDArray current;

        S(NDArray m) {
            this.m = m;
        }

        @Override
        public NDArray momentum() {
            return m;
        }

        @Override
        public void select(java.util.function.UnaryOperator<NDArray> rows) {
            m = rows.apply(m);
        }

        @Override
        public void attach(NDManager manager) {
            m.attach(manager);
        }
    }
}
