package io.advspark.config;

/**
 * One classifier of a round.
 *
 * @param path TorchScript file (any Hadoop URI)
 * @param card its model card (JSON, format of shared/models/README.md)
 * @param role surrogate (attacked, white-box) or target (held out, scored later)
 * @param weight weight of its logits in the surrogate ensemble
 * @param augment whether {@code attack.augment} (e.g. dropout) applies to it
 */
public record ModelSpec(String path, String card, Role role, double weight, boolean augment)
        implements java.io.Serializable {

    /** A model that {@code attack.augment} applies to. */
    public ModelSpec(String path, String card, Role role, double weight) {
        this(path, card, role, weight, true);
    }

    /** What a model is used for in a round. */
    public enum Role {
        SURROGATE,
        TARGET
    }
}
