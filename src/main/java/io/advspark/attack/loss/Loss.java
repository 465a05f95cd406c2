package io.advspark.attack.loss;

import ai.djl.ndarray.NDArray;

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

    /** Short spec for records, e.g. {@code ce(untargeted=1,targeted=0)}. */
    String spec();
}
