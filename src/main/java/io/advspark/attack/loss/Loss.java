package io.advspark.attack.loss;

import ai.djl.ndarray.NDArray;
import io.advspark.vocabulary.Catalogue;

/**
 * The objective the attack ascends, from the ensemble's dataset logits. Implementations sum over
 * the batch (never average), so an image's gradient does not depend on its batch-mates.
 */
public interface Loss {
    /**
     * @param logits {@code [N, C]} ensemble logits, in the graph
     * @param labels0 0-based true labels
     * @param targets0 0-based target labels
     * @return a scalar to maximise
     */
    NDArray of(NDArray logits, int[] labels0, int[] targets0);

    /**
     * The canonical spec, e.g. {@code ce(untargeted=1,targeted=0)}, rendered from the class's catalogue declaration
     * (records and seeds key on it, so it never changes for the same values).
     */
    default String spec() {
        return Catalogue.render(this);
    }
}
