package io.advspark.attack.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.StepContext;
import io.advspark.model.Autograd;
import io.advspark.model.Ensemble;
import java.util.Map;

/**
 * A loss on an intermediate activation (a feature tap, see docs/exporting.md) of every surrogate
 * rather than on the ensemble's logits: ILA, FIA, NAA, ILPD. Every member must have been exported with
 * the tap; the ensemble's loss is the share-weighted sum of the members' losses (a member's
 * activations cannot be averaged with another's), so these losses take the default logit
 * ensemble only, no ensemble strategy and no model augmentation (the engine refuses the others).
 *
 * <p><b>Where the per-attack state lives.</b> What these papers compute once per attack at the
 * clean image (ILA's reference feature change, FIA's aggregate gradient, NAA's integrated
 * attribution) is computed by {@link #prepare} before the attack's start, from the images' own
 * random streams, and kept by the engine for the whole batch as named arrays (one set per
 * member, suffix {@code _k}); every step's {@link #of} reads them. They are loss state, not rule
 * state: they do not change across steps and combine with any update rule. Observers see each
 * array once, as extra state of step 0 ({@code StepObserver#onState}).
 *
 * <p>Draw order of an attack with a feature loss: the loss's preparation first (its reference
 * attack's or its masks' draws), then the start's, then the steps', each step's beginning with
 * the loss's per-step draws ({@link #prepareStep}).
 */
public interface FeatureLoss extends Loss {
    /** The tap (a card's tap name, e.g. {@code layer2}) the loss acts on. */
    String tap();

    /**
     * The loss's per-attack state, computed once at the clean images before the attack starts
     * (arrays owned by {@code probe.manager()}).
     */
    Map<String, NDArray> prepare(FeatureProbe probe, StepContext ctx);

    /**
     * The loss's per-step state, computed at the start of every step before any other draw of
     * the step (arrays owned by {@code probe.manager()}, the step's memory), merged over {@link
     * #prepare}'s for the step's {@link #of} calls; observers see each returned array as state of
     * the step ({@code probe.trace} shows any other). None by default (ILPD's noisy reference activations are per step).
     */
    default Map<String, NDArray> prepareStep(FeatureProbe probe, StepContext ctx) {
        return Map.of();
    }

    /**
     * The loss (a scalar to maximise, summed over rows) of the model inputs {@code in}: rows
     * {@code firstRow ..} of a gradient call, row r being image {@code r % images}.
     */
    NDArray of(Ensemble ensemble, NDArray in, Map<String, NDArray> prepared, int firstRow, int images,
            int[] labels0, int[] targets0);

    @Override
    default NDArray of(NDArray logits, int[] labels0, int[] targets0) {
        throw new UnsupportedOperationException(spec() + " is a feature-level loss: it reads the surrogates' taps, not logits");
    }

    /**
     * Rows {@code first .. first + size} of a tiled batch whose row r is row {@code r % N} of
     * {@code perImage} ({@code [N, ...]}).
     */
    static NDArray rowsOf(NDArray perImage, int first, int size) {
        int n = (int) perImage.getShape().get(0);
        if (first == 0 && size == n) {
            return perImage;
        }
        NDList runs = new NDList();
        int r = first;
        while (r < first + size) {
            int start = r % n;
            int len = Math.min(n - start, first + size - r);
            runs.add(perImage.get(new NDIndex("{}:{}", start, start + len)));
            r += len;
        }
        return runs.size() == 1 ? runs.get(0) : NDArrays.concat(runs, 0);
    }

    /** {@code sum(a * b)} over everything, in the graph of {@code a} ({@code b} a constant). */
    static NDArray dot(NDArray a, NDArray b) {
        return a.mul(b).sum();
    }

    /** Per-image L2 norm of {@code a} ({@code [N, ...]}), shaped {@code [N, 1, ...]} for broadcasting. */
    static NDArray perImageNorm(NDArray a) {
        long n = a.getShape().get(0);
        NDArray norm = a.reshape(n, -1).square().sum(new int[] {1}).sqrt();
        long[] shape = new long[a.getShape().dimension()];
        java.util.Arrays.fill(shape, 1);
        shape[0] = n;
        return norm.reshape(new Shape(shape));
    }

    /** {@code a / ||a||} per image; an image whose norm is 0 stays 0. No graph. */
    static NDArray unitPerImage(NDArray a) {
        NDArray norm = perImageNorm(a);
        NDArray safe = NDArrays.where(norm.eq(0f), norm.onesLike(), norm);
        return a.div(safe);
    }

    /** Share {@code s} as a graph constant (see {@link Autograd#scalar}). */
    static NDArray share(NDArray like, double s) {
        return Autograd.scalar(like.getManager(), (float) s);
    }

    /** The scalar sum of the list (first + second + ...). */
    static NDArray sum(NDList terms) {
        NDArray out = null;
        for (NDArray t : terms) {
            out = out == null ? t : out.add(t);
        }
        return out;
    }
}
