package io.advspark.defense;

import io.advspark.vocabulary.Catalogue;

/**
 * A defense-chain stage that is not a function of the 8-bit image alone because it involves a
 * network: a purifier ({@link Purify}) or randomized smoothing of the classifier
 * ({@link RandomizedSmoothing}). Declared in the catalogue like the image defenses; the round's
 * scorer runs these stages on the float tensor after the chain's image stages and before (or, for
 * smoothing, around) the target model. In a chain they follow every image stage.
 */
public sealed interface TensorDefense extends java.io.Serializable permits Purify, RandomizedSmoothing {

    /** The canonical spec, rendered from the class's catalogue declaration (it names the variant and seeds draws). */
    default String spec() {
        return Catalogue.render(this);
    }
}
