package io.advspark.attack.init;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Catalogue;

/** The starting point x_0 of the iteration, inside the budget and [0,1]. */
public interface Initializer {
    /** Returns x_0 (a new array in {@code ctx.clean()}'s manager); ctx.step() is -1. */
    NDArray start(StepContext ctx);

    /**
     * The canonical spec, e.g. {@code perlin(period=60.0,...)}, rendered from the class's catalogue declaration
     * (records and seeds key on it, so it never changes for the same values).
     */
    default String spec() {
        return Catalogue.render(this);
    }

    /**
     * Whether {@link #start} reads {@code ctx.guides()}: the caller must then pass one guide image
     * per row (the job layer loads an image of each row's target class).
     */
    default boolean needsGuides() {
        return false;
    }
}
