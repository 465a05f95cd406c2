package io.advspark.attack.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.advspark.attack.update.UpdateRule;
import io.advspark.model.Ensemble;
import java.util.List;

/**
 * What a {@link FeatureLoss} may ask the engine for while it prepares, once per attack: tap
 * activations and tap gradients of the surrogates over many rows (cut into micro-batches under
 * the engine's row cap; results do not depend on it), and a reference attack run by the engine
 * on the same clean images. Implemented by the engine; a loss needs no model code of its own.
 */
public interface FeatureProbe {
    /** The surrogates (members, shares, cards). */
    Ensemble ensemble();

    /** The clean batch {@code [N, 3, H, W]} in [0,1]. */
    NDArray clean();

    /** Where the prepared arrays live (the batch's memory). */
    NDManager manager();

    /**
     * Rows of pixels in [0,1], built on demand a micro-batch at a time (so a loss's copies need
     * not all be in memory at once): rows {@code from .. to} of the call, in {@code manager}.
     * Called once per micro-batch, in row order, so draws made inside are made in row order.
     * Must return a new array (never one the loss keeps): the engine closes it after the micro-batch.
     */
    @FunctionalInterface
    interface Rows {
        NDArray of(int from, int to, NDManager manager);
    }

    /** Each member's activation at {@code tap} for {@code rows} rows (no graph), in {@link #manager()}. */
    List<NDArray> taps(int rows, Rows images, String tap);

    /**
     * Each member's gradient of {@code objective} (of its own dataset logits, summed over rows;
     * row r takes image {@code r % N}'s labels) with respect to its activation at {@code tap},
     * for {@code rows} rows, in {@link #manager()}.
     */
    List<NDArray> tapGradients(int rows, Rows images, String tap, Loss objective);

    /**
     * The final iterate of an attack the engine runs first on the clean batch with this attack's
     * budget and step size: a zero start, {@code update}, {@code loss}, {@code steps} steps, no
     * transforms, the logit ensemble; its draws (if any) come from the images' streams.
     */
    NDArray runReference(UpdateRule update, Loss loss, int steps);

    /** Shows a prepared array to the engine's observer (extra state of step 0). */
    void trace(String name, NDArray value);
}
