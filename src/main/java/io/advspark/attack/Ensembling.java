package io.advspark.attack;

import io.advspark.vocabulary.Catalogue;

/**
 * What {@code attack.ensemble} names (catalogue kind {@link io.advspark.vocabulary.Kind#ENSEMBLE}):
 * either a fusion of the surrogates' outputs before the loss ({@link EnsembleMode}: logits,
 * probs, losses) or a strategy that asks for each member's gradient
 * ({@link io.advspark.attack.ensemble.EnsembleStrategy}: svre, cwa, adaea).
 */
public interface Ensembling extends java.io.Serializable {
    /** The canonical spec, rendered from the class's catalogue declaration. */
    default String spec() {
        return Catalogue.render(this);
    }
}
