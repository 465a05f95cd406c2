package io.advspark.model;

import java.io.Serializable;

/**
 * Where a classifier comes from and how it joins the surrogate ensemble: what
 * {@link ModelLoader} needs of a round's model entry.
 *
 * @param path TorchScript file (any storage URI)
 * @param card its model card (JSON, format in docs/models.md)
 * @param weight weight of its logits in the surrogate ensemble
 * @param augment whether the attack's model augmentations (e.g. dropout) apply to it
 * @param group true when {@code path} names a checkpoint group (a folder or a glob of TorchScript
 *     files, see {@link CheckpointGroup}) instead of one file; {@code card} is then the group card
 *     ({@code group.json}, optional) and {@code weight} the whole group's weight
 */
public record ModelSource(String path, String card, double weight, boolean augment, boolean group) implements Serializable {

    /** One TorchScript file. */
    public ModelSource(String path, String card, double weight, boolean augment) {
        this(path, card, weight, augment, false);
    }
}
