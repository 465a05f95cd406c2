package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Catalogue;

/**
 * A per-iteration transformation of the iterate before the surrogates see it (DI, SI, Admix,
 * ...). It must be differentiable, or document a straight-through gradient.
 *
 * <p>A transform may return several copies of each image (SI's scales, Admix's mixes) stacked
 * along the batch axis: copy j of row i at row {@code j * rows + i}. The engine repeats the
 * labels to match and averages the loss over the copies, so all copies go through the surrogates
 * in one forward pass.
 *
 * <p>A transform with many copies (OPS's 201) may have the engine build them a chunk at a time,
 * so that a step never holds every copy and its graph at once: it declares
 * {@link #copiesPerChunk()} below {@link #copies()} and implements {@link #draw}, which makes every
 * random draw of the call up front, in the order {@code apply} makes them, and returns the
 * {@link Chunks} that renders any range of copies from those draws.
 */
public interface InputTransform {
    /** Transforms {@code x} (in the autograd graph); random draws come from {@code ctx.draws()}. */
    NDArray apply(NDArray x, StepContext ctx);

    /** Copies per input row (1 for transforms that keep the batch size). */
    default int copies() {
        return 1;
    }

    /**
     * Copies the engine builds at once (chunks [0, c), [c, 2c), ...); {@link #copies()}, the
     * default, builds them all in one piece. Below that the transform must implement
     * {@link #draw}. The chunk is part of the attack, not a memory setting: the gradients of a
     * step's chunks are summed in chunk order, so results depend on it in the last float bits and
     * on nothing else (not on the row cap, the batch size or the batch-mates).
     */
    default int copiesPerChunk() {
        return copies();
    }

    /**
     * Makes every random draw of one call on {@code x} (its rows, shape and values; not in the
     * graph) in the order {@link #apply} makes them, and returns what renders copies from them:
     * {@code apply(x, ctx)} is {@code draw(x, ctx).render(x, 0, copies())}.
     */
    default Chunks draw(NDArray x, StepContext ctx) {
        throw new UnsupportedOperationException(spec() + " builds its copies in one piece");
    }

    /** A call's copies, rendered range by range from draws made once. */
    interface Chunks {
        /**
         * Copies {@code from} (inclusive) to {@code to} (exclusive) of every row of {@code x} (in
         * the graph), stacked as {@code apply} stacks all of them: copy c of row r at row
         * {@code (c - from) x rows + r}.
         */
        NDArray render(NDArray x, int from, int to);
    }

    /**
     * Float32 arrays of one input row's size that this transform's graph keeps per output row
     * until the backward (its output included), for the memory estimate: 1 for a transform that
     * only permutes, scales or adds; more where intermediates are larger than the row (DI's
     * enlarged canvas) or several deep (OPS's compositions).
     */
    default double graphRowsPerOutputRow() {
        return 1.0;
    }

    /**
     * The canonical spec, e.g. {@code di(p=0.5,resize=1.1)}, rendered from the class's catalogue declaration
     * (records and seeds key on it, so it never changes for the same values).
     */
    default String spec() {
        return Catalogue.render(this);
    }
}
