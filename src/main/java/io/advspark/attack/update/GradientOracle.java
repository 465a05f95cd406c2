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
}
