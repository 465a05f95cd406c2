package io.advspark.attack.update;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Catalogue;

/**
 * Turns the loss gradient into a step direction (before scaling by the step size), keeping any
 * state (momentum, variance) across iterations of one batch.
 */
public interface UpdateRule {
    /** Fresh state for a batch shaped like {@code clean}, owned by {@code manager}. */
    State start(NDArray clean, NDManager manager);

    /**
     * The point at which the gradient is taken, given the current iterate (x itself for most
     * rules; NI-FGSM looks ahead along the momentum).
     */
    default NDArray gradientPoint(NDArray x, State state, StepContext ctx) {
        return x;
    }

    /**
     * Updates {@code state} from {@code grad} and returns the ascent direction; {@code oracle}
     * gives gradients at other points (variance tuning).
     */
    NDArray direction(NDArray grad, State state, StepContext ctx, GradientOracle oracle);

    /**
     * The most points this rule sends to the oracle in one {@link GradientOracle#at(java.util.List)} call
     * (VMI's neighbours, PGN's samples, EMI's points), 1 for rules that only use the engine's own
     * gradient. The memory estimate of a round multiplies a batch's rows by it: those points'
     * rows go through the surrogates together (under {@code max-rows}).
     */
    default int points() {
        return 1;
    }

    /**
     * The canonical spec, e.g. {@code mi(decay=1)}, rendered from the class's catalogue declaration
     * (records and seeds key on it, so it never changes for the same values).
     */
    default String spec() {
        return Catalogue.render(this);
    }

    /** Per-batch state; arrays are replaced, not mutated, so observers can keep references. */
    interface State {
        /** The accumulated momentum, or null for stateless rules. */
        NDArray momentum();

        /** The variance of variance tuning (VMI/VNI), or null. */
        default NDArray variance() {
            return null;
        }

        /**
         * Named state arrays beyond momentum and variance (a decay indicator, a previous mean
         * gradient), for observers and parity dumps; empty for most rules. Replaced, not mutated,
         * like the others.
         */
        default java.util.Map<String, NDArray> extras() {
            return java.util.Map.of();
        }

        /**
         * Replaces each array carried across steps by {@code rows} of it: the images that stay
         * in the batch when others leave it early ({@code attack.stop}). Every such array is per
         * image along axis 0; a new rule's state must keep it so.
         */
        void select(java.util.function.UnaryOperator<NDArray> rows);

        /** Moves the state's arrays to {@code manager} (out of a step's scratch space). */
        void attach(NDManager manager);
    }
}
