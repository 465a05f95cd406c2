package io.advspark.attack.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.StepContext;
import io.advspark.model.Autograd;
import io.advspark.model.Classifier;
import io.advspark.model.Ensemble;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * FIA, the Feature Importance-aware Attack (Wang et al., "Feature Importance-aware Transferable
 * Adversarial Attacks", ICCV 2021): the aggregate gradient of the true class's score with respect
 * to the tap, over {@code copies} randomly masked copies of the clean image,
 * {@code D_k = sum_n dS(x * M_n)/dF_k / ||sum_n dS(x * M_n)/dF_k||_2} (per image; M_n keeps each
 * pixel value, channel by channel, with probability 1 - drop), computed once per attack; the
 * attack then lowers the weighted feature sum: it ascends {@code L = -sum_k s_k sum(D_k * F_k(x'))}.
 *
 * <p>Draws (before the attack's start, {@link FeatureLoss}): for copy n = 0..copies-1, image i,
 * one {@code nextFloat()} per element of the image (row-major C, H, W) from image i's stream,
 * copy by copy; an element is dropped where the draw is below {@code drop}. The copies go through
 * the surrogates batched (copy n of image i at row n N + i), cut under the row cap, like the
 * sampling rules' points.
 *
 * <p>Defaults: 30 copies, drop probability 0.3 (TransferAttack {@code advanced_objective/fia.py},
 * {@code num_ens=30, drop_rate=0.3}); S is the softmax probability of the true class as there
 * ({@code objective=prob}; {@code logit} takes the logit instead). The tap is required
 * (TransferAttack's default for ResNets is {@code layer2}).
 */
public record FeatureImportance(String tap, double drop, int copies, String objective) implements FeatureLoss {
    public static final Entry<FeatureImportance> DECLARATION = Entry.of(Kind.LOSS, "fia", FeatureImportance.class)
            .summary("FIA: tap features weighted by their aggregate gradient over randomly masked copies, lowered; needs tapped surrogates")
            .paper("Wang et al., ICCV 2021")
            .param(Param.text("tap", "layer2", "the feature tap (a name in every surrogate's card, e.g. layer2)"))
            .param(Param.dbl("drop", 0.3, 0, 0.99, "probability of dropping each pixel value in a masked copy"))
            .param(Param.integer("copies", 30, 1, 10_000, "masked copies whose tap gradients are aggregated"))
            .param(Param.choice("objective", "prob", "the true class's score differentiated: softmax probability or logit",
                    "prob", "logit"))
            .randomised()
            .build(s -> new FeatureImportance(s.text("tap"), s.dbl("drop"), s.integer("copies"), s.choice("objective")));

    static final String WEIGHTS = "fia_weights_";

    @Override
    public Map<String, NDArray> prepare(FeatureProbe probe, StepContext ctx) {
        NDArray clean = probe.clean();
        int n = (int) clean.getShape().get(0);
        Shape one = clean.getShape().slice(1);
        int per = (int) one.size();
        float p = (float) drop;
        List<NDArray> grads = probe.tapGradients(copies * n, (from, to, m) -> {
            // Row r of the call is image r % N and draws from that image's stream (any cut).
            float[] u = new float[(to - from) * per];
            for (int r = from; r < to; r++) {
                java.util.Random g = ctx.draws().rng(r);
                for (int j = 0; j < per; j++) {
                    u[(r - from) * per + j] = g.nextFloat() < p ? 0f : 1f;
                }
            }
            NDArray x = FeatureLoss.rowsOf(clean, from, to - from);
            return x.mul(Autograd.constant(m, u, new Shape(to - from).addAll(one)));
        }, tap, FeatureLossSupport.objective(objective));
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (int k = 0; k < grads.size(); k++) {
            NDArray g = grads.get(k);
            Shape tapShape = g.getShape().slice(1);
            NDArray sum = g.reshape(new Shape(copies, n).addAll(tapShape)).sum(new int[] {0});
            out.put(WEIGHTS + k, FeatureLoss.unitPerImage(sum));
        }
        return out;
    }

    @Override
    public NDArray of(Ensemble ensemble, NDArray in, Map<String, NDArray> prepared, int firstRow, int images,
            int[] labels0, int[] targets0) {
        int size = (int) in.getShape().get(0);
        NDList terms = new NDList();
        List<Classifier.Features> f = ensemble.memberFeatures(in);
        for (int k = 0; k < f.size(); k++) {
            NDArray l = FeatureLoss.dot(f.get(k).tap(tap), FeatureLoss.rowsOf(prepared.get(WEIGHTS + k), firstRow, size));
            terms.add(l.mul(FeatureLoss.share(l, -ensemble.share(k))));
        }
        return FeatureLoss.sum(terms);
    }
}
