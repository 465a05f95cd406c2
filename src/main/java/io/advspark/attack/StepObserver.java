package io.advspark.attack;

import ai.djl.ndarray.NDArray;

/**
 * Sees every iteration of a batch (parity dumps, debugging, notebooks). The arrays are valid
 * only during the call. With a perturbation filter the iterates are the engine's latent ones
 * (the image is {@code clip(x + F(x_t - x))}, see {@link AttackEngine}) and the gradient is
 * with respect to the latent iterate.
 */
@FunctionalInterface
public interface StepObserver {
    /**
     * @param step 0-based iteration
     * @param x iterate x_t
     * @param momentum update-rule state before the step (null if stateless)
     * @param grad gradient of the loss at x_t (after gradient transforms)
     * @param nextX x_{t+1}
     * @param nextMomentum state after the step
     */
    void onStep(int step, NDArray x, NDArray momentum, NDArray grad, NDArray nextX, NDArray nextMomentum);

    /** Variance-tuning state before and after the step (only for rules that keep one). */
    default void onVariance(int step, NDArray before, NDArray after) {}

    /**
     * One of the rule's extra state arrays ({@code UpdateRule.State#extras}) before (null at the
     * first step if the rule starts without it) and after the step.
     */
    default void onState(int step, String name, NDArray before, NDArray after) {}

    /**
     * One surrogate's forward pass is about to run (in the autograd graph of a gradient). Called
     * once per ensemble member per forward, in member order, so the ensemble forwards of a step are
     * the calls with {@code member == 0}; {@code rows} is the batch that goes through the model:
     * the images times the attack's {@code copies} times the input transforms' copies (SI scales,
     * Admix mixes), all in one pass. Counting these calls is how tests and {@code PartCostBench}
     * check that copies are batched, not looped.
     *
     * @param step 0-based iteration
     * @param member the member's position in the ensemble
     * @param model the member's card name
     * @param rows rows of the batch going through the member
     */
    default void onForward(int step, int member, String model, int rows) {}
}
