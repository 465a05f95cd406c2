package io.advspark.attack;

import ai.djl.ndarray.NDArray;

/**
 * The surrogates' gradient with respect to a model input, for input transforms whose copies are
 * chosen by an inner step through the models (DeCowA's worst-case warp). The engine hands one to
 * every input transform through {@link StepContext#inputGradients()}; it knows the attack's loss,
 * labels, ensemble fusion and row cap, so a transform needs no model access of its own and stays
 * free of DJL model code.
 */
public interface InputGradients {
    /**
     * d L / d in at the model inputs {@code in} [R, C, H, W] (R a multiple of the batch size N;
     * row r is image r mod N and takes its labels), where L is the attack's loss of the attack's
     * fused ensemble (its {@link EnsembleMode}, without a strategy's head) summed over the rows:
     * each row's gradient is that of its own loss, not averaged over copies. The inputs go to the
     * surrogates as they are: no perturbation filter, no input transforms, no gradient transforms.
     * Cut into micro-batches under the engine's row cap (results do not depend on it); each
     * surrogate forward is reported to the observer like the step's own; with model augmentations
     * the dropout masks of these rows are drawn from the images' streams before the forwards.
     * The result is detached, in the step's scratch memory.
     */
    NDArray of(NDArray in);

    /**
     * Shows an intermediate array of this step (an inner iterate) to the engine's observer as
     * extra state {@code name}, as {@link io.advspark.attack.update.GradientOracle#trace} does;
     * parity dumps teacher-force inner steps with it. Costs nothing without an observer.
     */
    default void trace(String name, NDArray value) {}
}
