package io.advspark.model;

/**
 * A classifier as shipped to executors: TorchScript bytes plus its card and ensemble weight.
 * Broadcast once per job; materialised once per executor JVM by {@link ModelCache}.
 *
 * @param uri where the TorchScript file was read from (for messages)
 * @param card the validated card
 * @param torchScript the file's bytes
 * @param weight ensemble weight
 * @param augment whether the attack's model augmentations ({@code attack.augment}, e.g. dropout)
 *     apply to this model
 */
public record ModelBundle(String uri, ModelCard card, byte[] torchScript, double weight, boolean augment)
        implements java.io.Serializable {

    /** A bundle the attack's model augmentations apply to (the configuration's default). */
    public ModelBundle(String uri, ModelCard card, byte[] torchScript, double weight) {
        this(uri, card, torchScript, weight, true);
    }

    /** A stable identity for caching: same bytes and settings give the same key. */
    public String cacheKey() {
        return card.name() + ":" + torchScript.length + ":" + java.util.Arrays.hashCode(torchScript) + ":" + weight
                + ":" + augment;
    }
}
