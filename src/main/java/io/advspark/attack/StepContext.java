package io.advspark.attack;

import ai.djl.ndarray.NDArray;

/**
 * What a part may know about the current iteration.
 *
 * @param step 0-based iteration
 * @param steps total iterations
 * @param draws the batch's per-image random streams
 * @param clean the clean batch [N,3,H,W] in [0,1] (Admix mixes with it, init blends toward it)
 * @param eps01 budget on the [0,1] scale
 * @param alpha01 step size on the [0,1] scale
 * @param guides one guide image per row, [N,3,H,W] in [0,1] (the target-class images the
 *     {@code target} start blends toward), or null when the caller gave none
 * @param inputGradients the surrogates' input gradient of this step, for input transforms with an
 *     inner step through the models (DeCowA); null outside a step of the engine
 */
public record StepContext(int step, int steps, Draws draws, NDArray clean, float eps01, float alpha01, NDArray guides,
        InputGradients inputGradients) {

    /** A context without the surrogates' input gradient (starts, filters, tests). */
    public StepContext(int step, int steps, Draws draws, NDArray clean, float eps01, float alpha01, NDArray guides) {
        this(step, steps, draws, clean, eps01, alpha01, guides, null);
    }

    /** This context with the step's input gradient. */
    public StepContext withInputGradients(InputGradients g) {
        return new StepContext(step, steps, draws, clean, eps01, alpha01, guides, g);
    }

    /** A context without guide images. */
    public StepContext(int step, int steps, Draws draws, NDArray clean, float eps01, float alpha01) {
        this(step, steps, draws, clean, eps01, alpha01, null);
    }
}
