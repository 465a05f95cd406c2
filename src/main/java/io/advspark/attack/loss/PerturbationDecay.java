package io.advspark.attack.loss;

import ai.djl.ndarray.NDArray;
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
 * ILPD, Intermediate-Level Perturbation Decay (Li, Guo, Zuo and Chen, "Improving Adversarial
 * Transferability via Intermediate-level Perturbation Decay", NeurIPS 2023): every forward of the
 * attack replaces each surrogate's activation at the tap by a decayed one,
 * {@code h' = gamma F_k(x') + (1 - gamma) F_k(x + sigma n)}, and carries it on to the logits
 * (the exporter's {@code from_tap} method, {@link Classifier#logitsFromTap}); the attack ascends
 * the cross-entropy of those logits, fused by the members' shares like the logit ensemble. The
 * perturbation seen after the tap is a gamma-fraction of the real one, so the attack has to make
 * it large in the adversarial direction: the single-stage replacement of ILA's two stages.
 *
 * <p>Draws: at the start of every step, before any other draw of the step, one
 * {@code nextGaussian()} per element of each image (row-major C, H, W) from the image's stream,
 * times {@code sigma}, rounded to float ({@code Draws#gaussian}); the noisy clean images go
 * through the surrogates once per step (no graph) under the row cap, and every model input row
 * of the step (copies, transforms, sampled points) reads its image's reference activation.
 *
 * <p>Defaults: gamma 0.1 and sigma 0.05 (TransferAttack {@code advanced_objective/ilpd.py},
 * "official arguments" {@code coef=0.1, sigma=0.05}; its tap for ResNet-50 is {@code layer2.3},
 * the last block of layer2; here the tap is a required parameter with the other feature losses'
 * default {@code layer2}). As there, the noisy image is not clipped to [0,1] and one noise draw is
 * made per step. The objective is the untargeted cross-entropy; {@code targeted} weights a
 * descended CE of the target class as {@code ce} does.
 */
public record PerturbationDecay(String tap, double gamma, double sigma, double untargetedWeight, double targetedWeight)
        implements FeatureLoss {
    public static final Entry<PerturbationDecay> DECLARATION = Entry.of(Kind.LOSS, "ilpd", PerturbationDecay.class)
            .summary("ILPD: every forward decays the tap's perturbation to gamma of itself (against a noisy clean reference)"
                    + " and ascends the cross-entropy of the resulting logits; needs tapped surrogates")
            .paper("Li et al., NeurIPS 2023")
            .param(Param.text("tap", "layer2", "the feature tap (a name in every surrogate's card, e.g. layer2)"))
            .param(Param.dbl("gamma", 0.1, 0, 1, "fraction of the tap's perturbation carried on (1: plain CE)"))
            .param(Param.dbl("sigma", 0.05, 0, 1, "std of the Gaussian noise on the clean image of the reference, in [0,1] units"))
            .param(Param.dbl("untargeted", 1, -1e6, 1e6, "weight of the cross-entropy of the true label (ascended)")
                    .style(Param.Style.INTEGRAL)
                    .from("untargetedWeight"))
            .param(Param.dbl("targeted", 0, -1e6, 1e6, "weight of the cross-entropy of the target class (descended)")
                    .style(Param.Style.INTEGRAL)
                    .from("targetedWeight"))
            .randomised()
            .build(s -> new PerturbationDecay(s.text("tap"), s.dbl("gamma"), s.dbl("sigma"), s.dbl("untargeted"),
                    s.dbl("targeted")));

    static final String NOISE = "ilpd_noise";
    static final String REFERENCE = "ilpd_reference_";

    @Override
    public Map<String, NDArray> prepare(FeatureProbe probe, StepContext ctx) {
        return Map.of();
    }

    @Override
    public Map<String, NDArray> prepareStep(FeatureProbe probe, StepContext ctx) {
        NDArray clean = probe.clean();
        int n = (int) clean.getShape().get(0);
        int per = (int) clean.getShape().slice(1).size();
        NDArray noise = probe.manager().create(ctx.draws().gaussian(n, per, (float) sigma), clean.getShape());
        NDArray noisy = clean.add(noise);
        List<NDArray> ref = probe.taps(n, (from, to, m) -> FeatureLossSupport.slice(noisy, from, to), tap);
        probe.trace(NOISE, noise); // not state (the engine shows the returned arrays): the draw, for the parity check
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (int k = 0; k < ref.size(); k++) {
            out.put(REFERENCE + k, ref.get(k));
        }
        noisy.close();
        return out;
    }

    @Override
    public NDArray of(Ensemble ensemble, NDArray in, Map<String, NDArray> prepared, int firstRow, int images,
            int[] labels0, int[] targets0) {
        int size = (int) in.getShape().get(0);
        NDArray fused = null;
        for (int k = 0; k < ensemble.members().size(); k++) {
            Classifier member = ensemble.members().get(k);
            NDArray f = member.features(in).tap(tap);
            NDArray ref = FeatureLoss.rowsOf(prepared.get(REFERENCE + k), firstRow, size);
            if (!f.getShape().equals(ref.getShape())) {
                throw new IllegalArgumentException("loss " + spec() + ": model " + member.card().name() + "'s tap " + tap
                        + " is " + f.getShape() + " on the attack's inputs but " + ref.getShape()
                        + " on the clean images (an input transform changed the image size)");
            }
            NDArray decayed = f.mul(Autograd.scalar(f.getManager(), (float) gamma))
                    .add(ref.mul(Autograd.scalar(f.getManager(), (float) (1 - gamma))));
            NDArray z = member.logitsFromTap(in, tap, decayed).mul(FeatureLoss.share(f, ensemble.share(k)));
            fused = fused == null ? z : fused.add(z);
        }
        return new CrossEntropy(untargetedWeight, targetedWeight).of(fused, labels0, targets0);
    }
}
