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
 */
public record AttackConfig(
        double epsPixels,
        int steps,
        double stepSizePixels,
        double decay,
        Objective objective,
        double untargetedWeight,
        double targetedWeight)
        implements java.io.Serializable {

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

    /** A short readable spec stored with every record, e.g. {@code mi(eps=16,steps=10,...)}. */
    public String spec() {
        return String.format(
                java.util.Locale.ROOT,
                "mi(eps=%s,steps=%d,step=%s,decay=%s)|ce(untargeted=%s,targeted=%s)",
                fmt(epsPixels),
                steps,
                fmt(stepSizePixels),
                fmt(decay),
                fmt(effectiveUntargetedWeight()),
                fmt(effectiveTargetedWeight()));
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
