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
 */
public record ModelSource(String path, String card, double weight, boolean augment) implements Serializable {}
