package io.advspark.attack.ensemble;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import io.advspark.attack.StepContext;
import io.advspark.attack.update.GradientOracle;
import io.advspark.attack.update.UpdateRule;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.List;
import java.util.Map;

/**
 * CWA, the common weakness attack (Chen, Zhang, Dong, Yang, Su and Zhu, "Rethinking Model
 * Ensemble in Transfer-based Adversarial Attacks", ICLR 2024, Algorithm 1, MI-CWA): a
 * sharpness-aware reverse step on the ensemble, then one step per surrogate in turn with an
 * L2-normalised inner momentum (which, the paper shows, also aligns the members' gradients); the
 * outer rule gets the displacement of the whole inner pass:
 *
 * <pre>
 *   g_ens = grad of the logit ensemble's loss at x_t          (the engine's gradient)
 *   x^0   = clip(x_t - r eps sign(g_ens))
 *   for k in 0..K-1:                                          (member order)
 *     g_k  = grad of member k's own loss at x^k
 *     m^   = mu_in m^ + g_k / ||g_k||_2                       (per image; m^ carried across steps)
 *     x^k+1 = clip(x^k + beta m^)
 *   the rule's gradient = x^K - x_t       (with mi: G = mu G + (x^K - x_t) / mean|x^K - x_t|)
 * </pre>
 *
 * clip is into the eps-ball around the clean image and [0,1]. Defaults r = 1/15 (a reverse step of
 * eps/15: TransferAttack's {@code r_size = 16/255/15} at eps 16/255), beta = 250 (TransferAttack's
 * {@code inner_step_size}, on the [0,1] scale per unit-L2 gradient: with 224 x 224 images a step
 * of about 0.64 per pixel before the clip, so the inner steps mostly reach the ball's faces), and
 * mu_in = 1.0 (TransferAttack uses the attack's decay). The recipe pairs it with
 * {@code mi(decay=1.0)} at eps 16, 10 steps of eps/10, like every recipe; TransferAttack's CWA
 * takes outer steps of 2 eps/10. The paper's text was not reachable here; the settings are
 * TransferAttack's ({@code ensemble/cwa.py}).
 *
 * <p>Departures from TransferAttack: its outer update divides the displacement by the L1 norm of
 * the whole batch ({@code torch.norm(fake_grad, p=1)}), coupling the images; here the rule
 * normalises per image (an image's result must not depend on its batch-mates). The inner momentum
 * lives on across steps in both (state {@code cwa_inner_momentum}).
 *
 * <p>Gradients per step: the engine's ensemble gradient, then K single-member gradients, one call
 * each (the inner iterates are traced to observers as {@code cwa_x0 ..}: a member's gradient is
 * piecewise continuous, so parity teacher-forces the inner chain as it does the outer one). Nothing is drawn besides the input transforms' draws of those gradients, in that order.
 *
 * @param reverse r, the reverse (sharpness) step in units of eps
 * @param beta the inner step on the [0,1] scale, multiplying the L2-normalised inner momentum
 * @param innerDecay mu_in, the inner momentum's decay
 */
public record CommonWeakness(double reverse, double beta, double innerDecay) implements EnsembleStrategy {
    /** The state name of the inner momentum. */
    public static final String INNER_MOMENTUM = "cwa_inner_momentum";

    /** The traced inner iterates x^k, k = 0..K-1, are {@code cwa_x0}, {@code cwa_x1}, ... (parity dumps). */
    public static final String INNER_POINT = "cwa_x";

    public static final Entry<CommonWeakness> DECLARATION = Entry.of(Kind.ENSEMBLE, "cwa", CommonWeakness.class)
            .summary("Common weakness attack: a reverse step on the ensemble, then one L2-momentum step per surrogate"
                    + " in turn; the rule gets the displacement")
            .paper("Chen et al., \"Rethinking Model Ensemble in Transfer-based Adversarial Attacks\", ICLR 2024")
            .param(Param.dbl("r", 1.0 / 15, 0, 10,
                    "reverse (sharpness-aware) step in units of eps")
                    .from("reverse"))
            .param(Param.dbl("beta", 250, 0, 1e6,
                    "inner step on the [0,1] scale per unit-L2 momentum")
                    .style(Param.Style.INTEGRAL))
            .param(Param.dbl("inner_decay", 1.0, 0, 100,
                    "decay of the inner momentum (carried across steps)")
                    .from("innerDecay")
                    .style(Param.Style.INTEGRAL))
            .build(s -> new CommonWeakness(s.dbl("r"), s.dbl("beta"), s.dbl("inner_decay")));

    @Override
    public UpdateRule.State start(NDArray clean, NDManager manager) {
        return new S(manager.zeros(clean.getShape(), clean.getDataType()));
    }

    @Override
    public NDArray gradient(NDArray point, NDArray ensembleGradient, UpdateRule.State state, StepContext ctx,
            GradientOracle oracle) {
        S s = (S) state;
        int n = (int) point.getShape().get(0);
        NDArray lo = ctx.clean().sub(ctx.eps01());
        NDArray hi = ctx.clean().add(ctx.eps01());
        NDArray xi = point.sub(ensembleGradient.sign().mul((float) (reverse * ctx.eps01())));
        xi = NDArrays.minimum(NDArrays.maximum(xi, lo), hi).clip(0f, 1f);
        NDArray m = s.m;
        for (int k = 0; k < oracle.members(); k++) {
            oracle.trace(INNER_POINT + k, xi);
            int[] all = new int[n];
            java.util.Arrays.fill(all, k);
            NDArray g = oracle.ofMembers(List.of(xi), all).get(0);
            NDArray l2 = g.reshape(n, -1).norm(new int[] {1}, true).maximum(1e-12f).reshape(n, 1, 1, 1);
            m = m.mul((float) innerDecay).add(g.div(l2));
            xi = xi.add(m.mul((float) beta));
            xi = NDArrays.minimum(NDArrays.maximum(xi, lo), hi).clip(0f, 1f);
        }
        s.m = m;
        return xi.sub(point);
    }

    /** The inner momentum, carried across steps. */
    static final class S implements UpdateRule.State {
        NDArray m;

        S(NDArray m) {
            this.m = m;
        }

        @Override
        public NDArray momentum() {
            return m;
        }

        @Override
        public Map<String, NDArray> extras() {
            return Map.of(INNER_MOMENTUM, m);
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
