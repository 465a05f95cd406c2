package io.advspark.attack.update;

import ai.djl.ndarray.NDArray;

/**
 * The loss gradient at any point, with the attack's input and gradient transforms applied:
 * what variance tuning (VMI/VNI) samples around the iterate.
 */
@FunctionalInterface
public interface GradientOracle {
    NDArray at(NDArray point);
}
