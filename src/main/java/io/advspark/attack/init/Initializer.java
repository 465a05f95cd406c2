package io.advspark.attack.init;

import ai.djl.ndarray.NDArray;

/** The starting point x_0 of the iteration, inside the budget. */
public interface Initializer {
    /** Returns x_0 (a new array in {@code clean}'s manager) for a budget {@code eps01}. */
    NDArray start(NDArray clean, float eps01);

    String spec();
}
