package io.advspark.attack.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.advspark.attack.Parts;
import io.advspark.attack.StepContext;
import io.advspark.model.Classifier;
import io.advspark.model.Ensemble;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ILA, the Intermediate Level Attack (Huang et al., "Enhancing Adversarial Example
 * Transferability with an Intermediate Level Attack", ICCV 2019), in its projection form ILAP: a
 * reference attack runs first on the same images; then the attack ascends, per surrogate k and
 * image, the projection of the feature change at the tap on the reference's feature change,
 * {@code L_k = <F_k(x') - F_k(x), u_k>}, {@code u_k = (F_k(x_ref) - F_k(x)) / ||F_k(x_ref) - F_k(x)||}
 * (an image whose reference changed nothing has u = 0), summed over images and weighted by the
 * members' shares.
 *
 * <p>The reference attack is run by the engine itself before the ILA phase ({@link
 * FeatureProbe#runReference}): a zero start, the update rule {@code reference} at its defaults
 * ({@code mi} = MI-FGSM with decay 1, {@code ifgsm}), the untargeted cross-entropy, {@code
 * reference_steps} steps, the attack's own budget and step size, no transforms. It draws no
 * random numbers, nor does the loss: ILA is deterministic. The whole ILA attack is then the
 * reference's steps plus the attack's own (the published setting is 10 + 10); the attack starts
 * again from its own start, as the paper's ILA phase starts from the clean image.
 *
 * <p>Defaults: {@code reference=mi} and 10 reference steps are TransferAttack's
 * ({@code advanced_objective/ila.py}: MI-FGSM, 10 epochs, then 10 ILA epochs). Departures from
 * TransferAttack, which follow the paper: TransferAttack flattens the whole batch into one
 * vector before projecting (so an image's loss depends on its batch-mates) and divides by the
 * reference norm twice; here each image is projected on its own unit direction. The scale does
 * not change sign or L1-normalised steps. The paper's tap for ResNets is a middle block (TransferAttack
 * picks the middle of the feature layers); it is a required parameter here.
 */
public record IntermediateLevel(String tap, String reference, int referenceSteps) implements FeatureLoss {
    public static final Entry<IntermediateLevel> DECLARATION = Entry.of(Kind.LOSS, "ila", IntermediateLevel.class)
            .summary("ILA projection (ILAP): feature change at a tap projected on a reference attack's (run first); needs tapped surrogates")
            .paper("Huang et al., ICCV 2019")
            .param(Param.text("tap", "layer2", "the feature tap (a name in every surrogate's card, e.g. layer2)"))
            .param(Param.choice("reference", "mi", "the reference attack's update rule at its defaults (mi: MI-FGSM decay 1)",
                    "mi", "ifgsm"))
            .param(Param.integer("reference_steps", 10, 1, 10_000, "steps of the reference attack, run before the attack's own")
                    .from("referenceSteps"))
            .build(s -> new IntermediateLevel(s.text("tap"), s.choice("reference"), s.integer("reference_steps")));

    static final String CLEAN = "ila_clean_";
    static final String DIRECTION = "ila_direction_";

    @Override
    public Map<String, NDArray> prepare(FeatureProbe probe, StepContext ctx) {
        NDArray ref = probe.runReference(Parts.update(reference), new CrossEntropy(1, 0), referenceSteps);
        int n = (int) probe.clean().getShape().get(0);
        List<NDArray> clean = probe.taps(n, (from, to, m) -> FeatureLossSupport.slice(probe.clean(), from, to), tap);
        List<NDArray> adv = probe.taps(n, (from, to, m) -> FeatureLossSupport.slice(ref, from, to), tap);
        Map<String, NDArray> out = new LinkedHashMap<>();
        probe.trace("ila_reference", ref);
        for (int k = 0; k < clean.size(); k++) {
            out.put(CLEAN + k, clean.get(k));
            out.put(DIRECTION + k, FeatureLoss.unitPerImage(adv.get(k).sub(clean.get(k))));
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
            NDArray change = f.get(k).tap(tap).sub(FeatureLoss.rowsOf(prepared.get(CLEAN + k), firstRow, size));
            NDArray l = FeatureLoss.dot(change, FeatureLoss.rowsOf(prepared.get(DIRECTION + k), firstRow, size));
            terms.add(l.mul(FeatureLoss.share(l, ensemble.share(k))));
        }
        return FeatureLoss.sum(terms);
    }
}
