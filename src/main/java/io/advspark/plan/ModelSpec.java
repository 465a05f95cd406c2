package io.advspark.plan;

import io.advspark.defense.DefenseChain;
import io.advspark.model.ModelSource;
import java.io.Serializable;
import java.util.List;

/**
 * One classifier of a round, typed.
 *
 * @param path TorchScript file (any storage URI)
 * @param card its model card (JSON, format in docs/models.md)
 * @param role surrogate (attacked, white-box), target (held out, scored later) or validation (held
 *     out, queried during the attack by {@code attack.stop} and {@code attack.search})
 * @param weight weight of its logits in the surrogate ensemble
 * @param augment whether {@code attack.augment} (e.g. dropout) applies to it
 * @param group true when {@code path} names a checkpoint group (a folder or glob of TorchScript
 *     files, the checkpoints of one training run; see {@link io.advspark.model.CheckpointGroup})
 *     and {@code card} its optional group card; {@code weight} is then the group's
 * @param defenses for a target or a validation model: its defended variants, each a chain such as
 *     {@code jpeg(quality=75) > bits(bits=4) > model} ({@link DefenseChain#NONE} = undefended);
 *     empty for a surrogate
 */
public record ModelSpec(String path, String card, Role role, double weight, boolean augment, List<DefenseChain> defenses,
        boolean group) implements Serializable {

    public ModelSpec {
        defenses = List.copyOf(defenses);
    }

    /** One TorchScript file. */
    public ModelSpec(String path, String card, Role role, double weight, boolean augment, List<DefenseChain> defenses) {
        this(path, card, role, weight, augment, defenses, false);
    }

    /** A model without defended variants (a target is then scored undefended). */
    public ModelSpec(String path, String card, Role role, double weight, boolean augment) {
        this(path, card, role, weight, augment, List.of());
    }

    /** A model that {@code attack.augment} applies to. */
    public ModelSpec(String path, String card, Role role, double weight) {
        this(path, card, role, weight, true);
    }

    /** What the model loader needs of this entry. */
    public ModelSource source() {
        return new ModelSource(path, card, weight, augment, group);
    }

    /** What a model is used for in a round. */
    public enum Role {
        SURROGATE,
        TARGET,
        /**
         * Held out like a target, but queried while the round attacks: through its defense chains,
         * on the quantised image, to stop an image early or to pick its budget. Never a target of
         * the same round (the scores would then be measured on the model that chose the images).
         */
        VALIDATION
    }
}
