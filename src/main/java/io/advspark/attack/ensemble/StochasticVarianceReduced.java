package io.advspark.attack.ensemble;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.StepContext;
import io.advspark.attack.update.GradientOracle;
import io.advspark.attack.update.UpdateRule;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.List;

/**
 * SVRE, the stochastic variance-reduced ensemble attack (Xiong, Lin, Zhang, Liu and Tao,
 * "Stochastic Variance Reduced Ensemble Adversarial Attack for Boosting the Adversarial
 * Transferability", CVPR 2022, Algorithm 1): each outer step runs an inner loop of M updates on a
 * copy of the iterate, each with one randomly chosen surrogate's gradient corrected by the SVRG
 * control variate, and hands the inner loop's accumulated momentum to the outer update rule:
 *
 * <pre>
 *   g_ens = grad of the logit ensemble's loss at x_t          (the engine's gradient)
 *   x~_0 = x_t ;  G~_0 = 0
 *   for m in 0..M-1:
 *     k_i   uniform in {0..K-1}, per image i
 *     g_m   = g_k(x~_m) - g_k(x_t) + g_ens                    (g_k: member k's own loss)
 *     G~    = mu_in G~ + g_m / mean|g_m|                      (per image)
 *     x~    = clip(clip(x~ + beta alpha sign(G~), x +- eps), 0, 1)
 *   the rule's gradient = G~_M        (with mi: G = mu G + G~_M / mean|G~_M|, the paper's outer step)
 * </pre>
 *
 * Defaults: M = 4K (param {@code m = 0}; TransferAttack's {@code ensemble/svre.py} sets
 * {@code M = 4 * len(models)}; the paper's four-model experiments use 16, the same number), inner
 * step beta alpha with beta = 1 (TransferAttack: {@code self.beta = alpha}), inner decay
 * mu_in = 1.0 (TransferAttack uses the attack's decay, 1.0, for both loops). The recipe pairs it
 * with {@code mi(decay=1.0)}, eps 16, 10 steps of eps/10, as TransferAttack does. The paper's own
 * text was not reachable here to confirm M and beta beyond TransferAttack's and third-party code.
 *
 * <p>Departures from TransferAttack: it draws one member for the whole batch per inner update
 * ({@code np.random.randint}); here each image draws its own from its stream (an image's result
 * must not depend on its batch-mates), and every row goes through its own member only, so an
 * inner update costs one member's gradient as there. TransferAttack recomputes g_k(x_t) at each
 * inner update; it is the same value, computed here once per outer step for every member (one
 * call, {@link GradientOracle#perMember}).
 *
 * <p>Gradients per step: the engine's ensemble gradient at the rule's point, every member's at
 * that point, then M single-member gradients. Draw order per step, from each image's stream: the
 * input transforms' draws of the ensemble gradient; those of the per-member gradients (the inputs
 * are built once for all members); then per inner update: first one {@code nextInt(K)} per image
 * (image order), then the input transforms' draws of that update's gradient.
 *
 * @param inner M, inner updates per step; 0 means four per surrogate
 * @param innerDecay mu_in, the inner loop's momentum decay
 * @param beta the inner step in units of the attack's step size
 */
public record StochasticVarianceReduced(int inner, double innerDecay, double beta) implements EnsembleStrategy {
    public static final Entry<StochasticVarianceReduced> DECLARATION = Entry.of(Kind.ENSEMBLE, "svre",
                    StochasticVarianceReduced.class)
            .summary("Stochastic variance-reduced ensemble: an inner loop of m single-surrogate steps, each gradient"
                    + " corrected by g_ens - g_k(x_t); the rule gets the inner momentum")
            .paper("Xiong et al., \"Stochastic Variance Reduced Ensemble Adversarial Attack for Boosting the Adversarial"
                    + " Transferability\", CVPR 2022")
            .param(Param.integer("m", 0, 0, 1000,
                    "inner updates per step; 0 = four per surrogate (TransferAttack's M = 4K)")
                    .from("inner"))
            .param(Param.dbl("inner_decay", 1.0, 0, 100,
                    "momentum decay of the inner loop")
                    .from("innerDecay")
                    .style(Param.Style.INTEGRAL))
            .param(Param.dbl("beta", 1.0, 0, 100,
                    "inner step size in units of the attack's step size")
                    .style(Param.Style.INTEGRAL))
            .randomised()
            .build(s -> new StochasticVarianceReduced(s.integer("m"), s.dbl("inner_decay"), s.dbl("beta")));

    @Override
    public NDArray gradient(NDArray point, NDArray ensembleGradient, UpdateRule.State state, StepContext ctx,
            GradientOracle oracle) {
        int members = oracle.members();
        int updates = inner == 0 ? 4 * members : inner;
        int n = (int) point.getShape().get(0);
        List<NDArray> atX = oracle.perMember(List.of(point)).get(0);
        NDArray lo = ctx.clean().sub(ctx.eps01());
        NDArray hi = ctx.clean().add(ctx.eps01());
        float step01 = (float) (beta * ctx.alpha01());
        NDArray xi = point;
        NDArray big = null;
        for (int m = 0; m < updates; m++) {
            int[] which = new int[n];
            for (int i = 0; i < n; i++) {
                which[i] = ctx.draws().rng(i).nextInt(members);
            }
            NDArray gk = oracle.ofMembers(List.of(xi), which).get(0);
            NDArray gm = gk.sub(pick(atX, which, gk)).add(ensembleGradient);
            NDArray normed = gm.div(meanAbs(gm));
            big = big == null ? normed : big.mul((float) innerDecay).add(normed);
            xi = xi.add(big.sign().mul(step01));
            xi = NDArrays.minimum(NDArrays.maximum(xi, lo), hi).clip(0f, 1f);
        }
        return big;
    }

    /** Row i of {@code perMember.get(which[i])}, for every image i (exact: one term per row is non-zero). */
    static NDArray pick(List<NDArray> perMember, int[] which, NDArray like) {
        int n = which.length;
        NDArray out = null;
        for (int k = 0; k < perMember.size(); k++) {
            float[] mask = new float[n];
            boolean any = false;
            for (int i = 0; i < n; i++) {
                if (which[i] == k) {
                    mask[i] = 1f;
                    any = true;
                }
            }
            if (!any) {
                continue;
            }
            NDArray term = perMember.get(k).mul(like.getManager().create(mask, new Shape(n, 1, 1, 1)));
            out = out == null ? term : out.add(term);
        }
        return out;
    }

    /**
     * Per image mean |g|, floored at 1e-12 so a zero gradient gives a zero step instead of NaN
     * (as the momentum rules), shaped [N,1,1,1].
     */
    static NDArray meanAbs(NDArray g) {
        long n = g.getShape().get(0);
        return g.abs().reshape(n, -1).mean(new int[] {1}, true).maximum(1e-12f).reshape(n, 1, 1, 1);
    }
}
