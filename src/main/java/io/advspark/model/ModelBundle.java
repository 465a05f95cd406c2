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
 * @param cardUri where the card was read from (for messages; null when not read from a file)
 * @param cardSha256 SHA-256 (hex) of the card file's bytes, part of a round's resume identity
 *     (the card's parsed form drops formatting, but any byte change is reported); null when unknown
 * @param group the checkpoint group this model belongs to (the group entry's path), or null for a
 *     model of its own; the members of a group share the group's weight equally
 */
public record ModelBundle(String uri, ModelCard card, byte[] torchScript, double weight, boolean augment,
        String cardUri, String cardSha256, String group)
        implements java.io.Serializable {

    /** A model of its own (no checkpoint group). */
    public ModelBundle(String uri, ModelCard card, byte[] torchScript, double weight, boolean augment,
            String cardUri, String cardSha256) {
        this(uri, card, torchScript, weight, augment, cardUri, cardSha256, null);
    }

    /** A bundle whose card file is unknown (tests, in-memory models). */
    public ModelBundle(String uri, ModelCard card, byte[] torchScript, double weight, boolean augment) {
        this(uri, card, torchScript, weight, augment, null, null);
    }

    /** A bundle the attack's model augmentations apply to (the configuration's default). */
    public ModelBundle(String uri, ModelCard card, byte[] torchScript, double weight) {
        this(uri, card, torchScript, weight, true);
    }

    /** A stable identity for caching: same bytes and settings give the same key. */
    public String cacheKey() {
        return card.name() + ":" + torchScript.length + ":" + java.util.Arrays.hashCode(torchScript) + ":" + weight
                + ":" + augment + ":" + group;
    }
}
