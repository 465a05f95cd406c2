package io.advspark.attack.init;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;

/** The starting point x_0 of the iteration, inside the budget and [0,1]. */
public interface Initializer {
    /** Returns x_0 (a new array in {@code ctx.clean()}'s manager); ctx.step() is -1. */
    NDArray start(StepContext ctx);

    String spec();

    /**
     * Whether {@link #start} reads {@code ctx.guides()}: the caller must then pass one guide image
     * per row (the job layer loads an image of each row's target class).
     */
    default boolean needsGuides() {
        return false;
    }
}
