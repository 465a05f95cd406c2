package io.advspark.attack.ensemble;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.types.DataType;
import io.advspark.attack.StepContext;
import io.advspark.attack.update.GradientOracle;
import io.advspark.attack.update.UpdateRule;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.ArrayList;
import java.util.List;

/**
 * AdaEA, the adaptive model ensemble attack (Chen, Yin, Chen, Chen and Liu, "An Adaptive Model
 * Ensemble Adversarial Attack for Boosting Adversarial Transferability", ICCV 2023): the members'
 * logits are weighted per step by how well each member's own one-step adversarial example fools
 * the others (adaptive gradient modulation, AGM), and the gradient is kept only where the members'
 * gradients do not disagree (disparity-reduced filter, DRF):
 *
 * <pre>
 *   g_k    = grad of member k's own loss at x_t                           (every member, one call)
 *   a_k    = clip(x_t + alpha sign(g_k))                                   (per member)
 *   w_k    = beta sum_{j != k} L_j(a_k) / L_j(a_j)                         (per image; L_j member j's loss)
 *   lambda = softmax_k(w)                                                  (per image)
 *   s      = mean over member pairs j &lt; k of cos(g_j, g_k) over the channels, per pixel
 *   B      = 1 where s &gt;= threshold, else 0                                (per image and pixel)
 *   the rule's gradient = B * grad of the loss of sum_k lambda_k z_k at x_t
 * </pre>
 *
 * clip is into the eps-ball and [0,1]; cos(u, v) = u/max(|u|, 1e-12) . v/max(|v|, 1e-12) (|.| the L2
 * norm over the three channels); L_j(a_j) is floored at 1e-12. Defaults beta = 10 and threshold =
 * -0.3 (TransferAttack's {@code ensemble/adaea.py}; the paper's text was not reachable here).
 * The recipe pairs it with {@code mi(decay=1.0)}, eps 16, 10 steps of eps/10, as TransferAttack.
 * With one member there is no pair: B = 1 and lambda = 1.
 *
 * <p>Departures from TransferAttack: (1) its AGM losses are means over the batch, so one weight
 * vector serves all images; here each image gets its own (an image's result must not depend on its
 * batch-mates). (2) Its DRF averages the per-member mean similarities over K members but leaves
 * the last member's at 0 (the {@code if i < j} after the inner loop sees the loop's last j), which
 * scales the similarity by (K-1)/K before the threshold; here the mean is over all pairs, the
 * paper's mean similarity. (3) Its AGM always uses the untargeted CE; here the members' losses are
 * the attack's own loss per image, so the ratio means "how much of a member's own loss the others
 * reach" only for a positive loss such as the untargeted CE. (4) Its start adds 0.001 N(0,1)
 * noise; here the start is the attack's init part. (5) Its gradients see no input transform; here
 * every gradient is the oracle's (the attack's input and gradient transforms applied), while the
 * AGM losses are taken on the one-step examples themselves.
 *
 * <p>Gradients per step: the engine's logit-ensemble gradient (computed for every attack, unused
 * here), every member's gradient in one call, K x K forward-only losses, one weighted-ensemble
 * gradient. Nothing is drawn besides the input transforms' draws of the per-member call, then of
 * the weighted gradient. The filter B is traced to observers as {@code adaea_filter} and the one-step
 * examples as {@code adaea_adv0}, ...: a pixel whose similarity sits at the threshold flips B on
 * rounding, and an element whose gradient is near 0 flips sign(g_k), so parity teacher-forces both.
 *
 * @param beta the temperature of the adversarial ratios before the softmax
 * @param threshold the similarity below which the DRF zeroes the gradient
 */
public record AdaptiveEnsemble(double beta, double threshold) implements EnsembleStrategy {
    /** The traced disparity-reduced filter B (parity dumps: it is piecewise constant in the gradients). */
    public static final String FILTER = "adaea_filter";
    /** The traced one-step examples a_k are {@code adaea_adv0}, {@code adaea_adv1}, ... (sign(g_k) is piecewise constant). */
    public static final String ONE_STEP = "adaea_adv";

    public static final Entry<AdaptiveEnsemble> DECLARATION = Entry.of(Kind.ENSEMBLE, "adaea", AdaptiveEnsemble.class)
            .summary("Adaptive ensemble: per-image logit weights from each surrogate's one-step adversarial ratio,"
                    + " the gradient zeroed where the surrogates' gradients disagree")
            .paper("Chen et al., \"An Adaptive Model Ensemble Adversarial Attack for Boosting Adversarial"
                    + " Transferability\", ICCV 2023")
            .param(Param.dbl("beta", 10, 0, 1000,
                    "temperature of the adversarial ratios (softmax of beta x the summed ratios)")
                    .style(Param.Style.INTEGRAL))
            .param(Param.dbl("threshold", -0.3, -1, 1,
                    "disparity-reduced filter: keep pixels whose mean gradient cosine is at least this")
                    .style(Param.Style.INTEGRAL))
            .build(s -> new AdaptiveEnsemble(s.dbl("beta"), s.dbl("threshold")));

    @Override
    public NDArray gradient(NDArray point, NDArray ensembleGradient, UpdateRule.State state, StepContext ctx,
            GradientOracle oracle) {
        int members = oracle.members();
        int n = (int) point.getShape().get(0);
        List<NDArray> g = oracle.perMember(List.of(point)).get(0);
        NDArray lo = ctx.clean().sub(ctx.eps01());
        NDArray hi = ctx.clean().add(ctx.eps01());
        List<NDArray> adv = new ArrayList<>(members);
        for (NDArray gk : g) {
            NDArray a = point.add(gk.sign().mul(ctx.alpha01()));
            adv.add(NDArrays.minimum(NDArrays.maximum(a, lo), hi).clip(0f, 1f));
            oracle.trace(ONE_STEP + (adv.size() - 1), adv.get(adv.size() - 1));
        }
        float[][] weights = weights(oracle.losses(adv), members, n, (float) beta);
        NDArray grad = oracle.weighted(point, weights);
        if (members < 2) {
            return grad;
        }
        NDArray b = filter(g, (float) threshold);
        oracle.trace(FILTER, b);
        return grad.mul(b);
    }

    /**
     * lambda[k][i] = softmax over k of beta sum_{j != k} L[k][j][i] / max(L[j][j][i], 1e-12), in
     * float32; {@code losses[k][j][i]} is member j's loss at member k's example of image i.
     */
    static float[][] weights(float[][][] losses, int members, int n, float beta) {
        float[][] out = new float[members][n];
        for (int i = 0; i < n; i++) {
            float[] w = new float[members];
            float max = Float.NEGATIVE_INFINITY;
            for (int k = 0; k < members; k++) {
                float sum = 0f;
                for (int j = 0; j < members; j++) {
                    if (j != k) {
                        sum += losses[k][j][i] / Math.max(losses[j][j][i], 1e-12f);
                    }
                }
                w[k] = beta * sum;
                max = Math.max(max, w[k]);
            }
            float total = 0f;
            for (int k = 0; k < members; k++) {
                w[k] = (float) Math.exp(w[k] - max);
                total += w[k];
            }
            for (int k = 0; k < members; k++) {
                out[k][i] = w[k] / total;
            }
        }
        return out;
    }

    /** B: 1 where the mean pairwise channel cosine of the members' gradients is at least {@code threshold}; [N,1,H,W]. */
    static NDArray filter(List<NDArray> g, float threshold) {
        List<NDArray> unit = new ArrayList<>(g.size());
        for (NDArray gk : g) {
            unit.add(gk.div(gk.square().sum(new int[] {1}, true).sqrt().maximum(1e-12f)));
        }
        NDArray s = null;
        int pairs = 0;
        for (int j = 0; j < unit.size(); j++) {
            for (int k = j + 1; k < unit.size(); k++) {
                NDArray c = unit.get(j).mul(unit.get(k)).sum(new int[] {1}, true);
                s = s == null ? c : s.add(c);
                pairs++;
            }
        }
        return s.div((float) pairs).gte(threshold).toType(DataType.FLOAT32, false);
    }
}
