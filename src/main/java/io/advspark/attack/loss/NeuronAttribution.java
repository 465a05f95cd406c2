package io.advspark.attack.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
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
 * NAA, the Neuron Attribution-based Attack (Zhang et al., "Improving Adversarial Transferability
 * via Neuron Attribution-Based Attacks", CVPR 2022): each tap neuron's attribution to the true
 * class, {@code A_k = (F_k(x') - F_k(b)) * IA_k}, with the integrated gradient
 * {@code IA_k = (1/n) sum_{m=1..n} dS(b + (m/n)(x - b))/dF_k} along the straight path from the
 * black baseline {@code b = 0} to the clean image x (computed once per attack), and the weighted
 * attribution {@code WA = sum max(A, 0) - gamma sum max(-A, 0)} lowered: the attack ascends
 * {@code L = -sum_k s_k WA_k}.
 *
 * <p>The n path points of every image go through the surrogates batched (point m of image i at
 * row (m-1) N + i), cut under the row cap. No random draws.
 *
 * <p>Defaults: n = 30 path points (TransferAttack {@code advanced_objective/naa.py}, {@code N=30}),
 * gamma = 1 (positive and negative attributions weighted alike, the paper's linear
 * transformation), S the softmax probability of the true class as in TransferAttack
 * ({@code objective=prob}). Departures from TransferAttack: its path points are m/n for
 * m = 0..n-1 (the baseline included, the image itself not: a left Riemann sum); here m = 1..n,
 * the right sum of integrated gradients, which ends at the image; and it implements only
 * gamma = 1 (its loss is the plain sum of A), while gamma is a parameter here as in the paper.
 */
public record NeuronAttribution(String tap, int n, double gamma, String objective) implements FeatureLoss {
    public static final Entry<NeuronAttribution> DECLARATION = Entry.of(Kind.LOSS, "naa", NeuronAttribution.class)
            .summary("NAA: tap neurons' integrated-gradient attribution to the true class, weighted by sign and lowered; needs tapped surrogates")
            .paper("Zhang et al., CVPR 2022")
            .param(Param.text("tap", "layer2", "the feature tap (a name in every surrogate's card, e.g. layer2)"))
            .param(Param.integer("n", 30, 1, 10_000, "points on the path from the black baseline to the image"))
            .param(Param.dbl("gamma", 1.0, 0, 100, "weight of the negative attributions"))
            .param(Param.choice("objective", "prob", "the true class's score differentiated: softmax probability or logit",
                    "prob", "logit"))
            .build(s -> new NeuronAttribution(s.text("tap"), s.integer("n"), s.dbl("gamma"), s.choice("objective")));

    static final String ATTRIBUTION = "naa_gradient_";
    static final String BASELINE = "naa_baseline_";

    @Override
    public Map<String, NDArray> prepare(FeatureProbe probe, StepContext ctx) {
        NDArray clean = probe.clean();
        int images = (int) clean.getShape().get(0);
        Shape one = clean.getShape().slice(1);
        List<NDArray> grads = probe.tapGradients(n * images, (from, to, m) -> {
            float[] factor = new float[to - from];
            for (int r = from; r < to; r++) {
                // float32(m / n), as a float64 quotient rounded once.
                factor[r - from] = (float) ((double) (r / images + 1) / n);
            }
            long[] col = new long[one.dimension() + 1];
            java.util.Arrays.fill(col, 1);
            col[0] = to - from;
            return FeatureLoss.rowsOf(clean, from, to - from).mul(Autograd.constant(m, factor, new Shape(col)));
        }, tap, FeatureLossSupport.objective(objective));
        List<NDArray> base = probe.taps(images, (from, to, m) -> m.zeros(new Shape(to - from).addAll(one)), tap);
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (int k = 0; k < grads.size(); k++) {
            NDArray g = grads.get(k);
            NDArray sum = g.reshape(new Shape(n, images).addAll(g.getShape().slice(1))).sum(new int[] {0});
            out.put(ATTRIBUTION + k, sum.div(n));
            out.put(BASELINE + k, base.get(k));
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
            NDArray a = f.get(k).tap(tap).sub(FeatureLoss.rowsOf(prepared.get(BASELINE + k), firstRow, size))
                    .mul(FeatureLoss.rowsOf(prepared.get(ATTRIBUTION + k), firstRow, size));
            NDArray wa = Activation.relu(a).sum();
            if (gamma != 0) {
                wa = wa.sub(Activation.relu(a.neg()).sum().mul(Autograd.scalar(a.getManager(), (float) gamma)));
            }
            terms.add(wa.mul(FeatureLoss.share(wa, -ensemble.share(k))));
        }
        return FeatureLoss.sum(terms);
    }
}
