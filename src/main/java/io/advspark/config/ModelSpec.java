package io.advspark.config;

/**
 * One classifier of a round.
 *
 * @param path TorchScript file (any Hadoop URI)
 * @param card its model card (JSON, format of shared/models/README.md)
 * @param role surrogate (attacked, white-box) or target (held out, scored later)
 * @param weight weight of its logits in the surrogate ensemble
 * @param augment whether {@code attack.augment} (e.g. dropout) applies to it
 * @param defenses for a target: its defended variants, each a chain such as
 *     {@code jpeg(75) > bits(4) > model} ({@code model} = undefended); empty for a surrogate
 */
public record ModelSpec(String path, String card, Role role, double weight, boolean augment, java.util.List<String> defenses)
        implements java.io.Serializable {

    public ModelSpec {
        defenses = java.util.List.copyOf(defenses);
    }

    /** A model without defended variants (a target is then scored undefended). */
    public ModelSpec(String path, String card, Role role, double weight, boolean augment) {
        this(path, card, role, weight, augment, java.util.List.of());
    }

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
