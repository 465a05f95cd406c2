package io.advspark.config;

/**
 * One classifier of a round.
 *
 * @param path TorchScript file (any Hadoop URI)
 * @param card its model card (JSON, format of shared/models/README.md)
 * @param role surrogate (attacked, white-box) or target (held out, scored later)
 * @param weight weight of its logits in the surrogate ensemble
 */
public record ModelSpec(String path, String card, Role role, double weight)
        implements java.io.Serializable {

    /** What a model is used for in a round. */
    public enum Role {
        SURROGATE,
        TARGET
    }
}
