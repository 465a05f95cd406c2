package io.advspark.attack.update;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;

/**
 * The loss gradient at any point, with the attack's input and gradient transforms applied: what
 * sampling rules (VMI/VNI, PGN, GRA, EMI, ...) evaluate around the iterate.
 *
 * <p>Rules that need several points ask for them in one call, {@link #at(List)}: the engine sends
 * all of them through each surrogate as one batched forward and backward, cut into micro-batches
 * under the attack's row cap. A rule draws its own random numbers (neighbour noise) before the
 * call; the input transforms' draws are then consumed point by point in list order, exactly as
 * calling {@link #at(NDArray)} on each point in turn would, so results do not depend on the row
 * cap.
 */
@FunctionalInterface
public interface GradientOracle {
    /** The gradient at {@code point} (shaped like the batch). */
    NDArray at(NDArray point);

    /** The gradients at {@code points}, in order (each shaped like the batch). */
    default List<NDArray> at(List<NDArray> points) {
        List<NDArray> out = new ArrayList<>(points.size());
        for (NDArray p : points) {
            out.add(at(p));
        }
        return out;
    }

    /**
     * The number of surrogates, for ensemble strategies (they ask for each member's gradient).
     * Oracles that only know the fused ensemble gradient do not answer the member queries.
     */
    default int members() {
        throw new UnsupportedOperationException("this oracle gives the ensemble's gradient only");
    }

    /**
     * Every member's own gradient (the loss of its logits alone, its weight not applied) at each
     * point: {@code result.get(p).get(k)} is member k's at point p. One call: each point's model
     * inputs are built once (the input transforms draw once per point, in list order, as in
     * {@link #at(List)}), and every member's forward and backward run over all of them, cut
     * under the row cap; the input gradients go back through the transforms one member at a time.
     */
    default List<List<NDArray>> perMember(List<NDArray> points) {
        throw new UnsupportedOperationException("this oracle gives the ensemble's gradient only");
    }

    /**
     * At each point, image i's gradient is that of member {@code memberOfImage[i]} alone: each of
     * its rows goes through that member only (one forward per member over the rows it was
     * given), the cost of one member's gradient. Draws as {@link #at(List)}.
     */
    default List<NDArray> ofMembers(List<NDArray> points, int[] memberOfImage) {
        throw new UnsupportedOperationException("this oracle gives the ensemble's gradient only");
    }

    /**
     * The gradient at {@code point} of the loss of the per-image weighted logit sum
     * {@code sum_k weights[k][i] z_k} (the members' own weights not applied). Draws as
     * {@link #at(NDArray)}.
     */
    default NDArray weighted(NDArray point, float[][] weights) {
        throw new UnsupportedOperationException("this oracle gives the ensemble's gradient only");
    }

    /**
     * Each member's loss of each image at each point, without a graph:
     * {@code result[p][k][i]}. The models see the points' images themselves (the perturbation
     * filter's image, no input transforms and no copies), so nothing is drawn.
     */
    default float[][][] losses(List<NDArray> points) {
        throw new UnsupportedOperationException("this oracle gives the ensemble's gradient only");
    }

    /**
     * Shows an intermediate array of this step (an ensemble strategy's inner iterate) to the
     * engine's observer, as extra state {@code name} (parity dumps teacher-force inner loops with
     * it); kept nowhere, so it costs nothing without an observer.
     */
    default void trace(String name, NDArray value) {}
}
