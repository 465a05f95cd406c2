package io.advspark.config;

/**
 * The attack of a round. Pixel-valued settings are in 0..255 units; the engine converts them to
 * the [0,1] scale it works in.
 *
 * @param epsPixels L-inf budget in 0..255 units
 * @param steps number of iterations
 * @param stepSizePixels step in 0..255 units (already resolved: never 0)
 * @param decay MI-FGSM momentum decay
 * @param objective untargeted, targeted or weighted
 * @param untargetedWeight weight of CE(true label), ascended
 * @param targetedWeight weight of CE(target label), descended
 * @param update update-rule spec, or "" for mi(decay)
 * @param inputs input-transform specs, applied in order
 * @param gradients gradient-transform specs, applied in order
 * @param loss loss spec, or "" for the CE given by objective
 * @param init initialisation spec
 * @param filter perturbation-filter spec or "none"
 * @param ensemble logits, probs or losses
 * @param copies independent draws of the input transforms per step
 * @param augment model-augmentation specs (e.g. dropout inside the surrogates)
 */
public record AttackConfig(
        double epsPixels,
        int steps,
        double stepSizePixels,
        double decay,
        Objective objective,
        double untargetedWeight,
        double targetedWeight,
        String update,
        java.util.List<String> inputs,
        java.util.List<String> gradients,
        String loss,
        String init,
        String filter,
        String ensemble,
        int copies,
        java.util.List<String> augment)
        implements java.io.Serializable {

    public AttackConfig {
        inputs = java.util.List.copyOf(inputs);
        gradients = java.util.List.copyOf(gradients);
        augment = java.util.List.copyOf(augment);
    }

    /** An attack without model augmentations. */
    public AttackConfig(double epsPixels, int steps, double stepSizePixels, double decay, Objective objective,
            double untargetedWeight, double targetedWeight, String update, java.util.List<String> inputs,
            java.util.List<String> gradients, String loss, String init, String filter, String ensemble, int copies) {
        this(epsPixels, steps, stepSizePixels, decay, objective, untargetedWeight, targetedWeight, update, inputs,
                gradients, loss, init, filter, ensemble, copies, java.util.List.of());
    }

    /** MI-FGSM with a CE objective and no further parts (the pipeline's original attack). */
    public AttackConfig(double epsPixels, int steps, double stepSizePixels, double decay, Objective objective,
            double untargetedWeight, double targetedWeight) {
        this(epsPixels, steps, stepSizePixels, decay, objective, untargetedWeight, targetedWeight, "",
                java.util.List.of(), java.util.List.of(), "", "zeros", "none", "logits", 1);
    }

    /** The objective family; the weights make the loss. */
    public enum Objective {
        UNTARGETED,
        TARGETED,
        WEIGHTED
    }

    /** Weight of the untargeted term as used by the loss. */
    public double effectiveUntargetedWeight() {
        return switch (objective) {
            case UNTARGETED -> 1.0;
            case TARGETED -> 0.0;
            case WEIGHTED -> untargetedWeight;
        };
    }

    /** Weight of the targeted term as used by the loss. */
    public double effectiveTargetedWeight() {
        return switch (objective) {
            case UNTARGETED -> 0.0;
            case TARGETED -> 1.0;
            case WEIGHTED -> targetedWeight;
        };
    }

}
