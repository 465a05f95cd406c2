package io.advspark.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.function.Function;

/**
 * Input gradients through libtorch, without DJL's GradientCollector.
 *
 * <p>DJL allows one GradientCollector per JVM ("already collecting"), which would serialise
 * every Spark task of an executor. libtorch's autograd itself is thread-safe for independent
 * graphs and its grad mode is thread-local, so each call here enables grad mode on the calling
 * thread, builds its own graph from a fresh leaf, and runs backward on it directly.
 */
public final class Autograd {
    private Autograd() {}

    /**
     * Values from Java as an array in {@code manager} whose memory libtorch owns, for use inside a
     * graph. DJL's CPU {@code create(float[])} copies the values into a direct ByteBuffer that the
     * libtorch tensor aliases ({@code torch::from_blob}, no copy) and that only the NDArray object
     * keeps reachable: an op that saves the tensor for its backward (mul, div, matmul, gather,
     * maximum) then reads freed memory if the array is closed and the buffer collected before the
     * backward, i.e. garbage, intermittently, depending on when the garbage collector runs.
     * DJL's scalar overloads ({@code mul(Number)}, {@code div(Number)}, {@code maximum(Number)},
     * ...) do exactly that: they wrap the number, apply the op and close the wrapper at once, so
     * in a graph use {@code x.mul(Autograd.scalar(m, f))} instead of {@code x.mul(f)}
     * (same values: libtorch multiplies by a 0-d tensor as by a number). Measured in
     * {@code GraphConstantsTest}.
     */
    public static NDArray constant(NDManager manager, float[] values, Shape shape) {
        return owned(manager.create(values, shape));
    }

    /** As {@link #constant(NDManager, float[], Shape)}, int64 values (e.g. gather indices). */
    public static NDArray constant(NDManager manager, long[] values, Shape shape) {
        return owned(manager.create(values, shape));
    }

    /** As {@link #constant(NDManager, float[], Shape)}, float64 values. */
    public static NDArray constant(NDManager manager, double[] values, Shape shape) {
        return owned(manager.create(values, shape));
    }

    /** One float32 number as a 0-d array libtorch owns (see {@link #constant(NDManager, float[], Shape)}). */
    public static NDArray scalar(NDManager manager, float value) {
        return constant(manager, new float[] {value}, new Shape());
    }

    private static NDArray owned(NDArray wrapped) {
        NDArray copy = wrapped.duplicate();
        wrapped.close();
        return copy;
    }

    /** Runs {@code body} with gradient recording off on this thread (plain inference). */
    public static <T> T noGrad(java.util.function.Supplier<T> body) {
        boolean before = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            return body.get();
        } finally {
            JniUtils.setGradMode(before);
        }
    }

    /**
     * Returns d loss / d x at {@code x}, where {@code loss = lossOf.apply(leaf)} must be a scalar.
     * The returned gradient is detached and attached to {@code x}'s manager; {@code x} is untouched.
     */
    public static NDArray gradient(NDArray x, Function<NDArray, NDArray> lossOf) {
        return gradient(x, lossOf, x.getManager());
    }

    /**
     * As {@link #gradient(NDArray, Function)}, with every intermediate tensor of the graph owned
     * by {@code scratch} (close it to free the step's memory); the gradient is returned in
     * {@code scratch} too.
     */
    public static NDArray gradient(NDArray x, Function<NDArray, NDArray> lossOf, ai.djl.ndarray.NDManager scratch) {
        boolean before = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        try {
            // A fresh leaf per call, so no gradient accumulates across steps: a detached alias of
            // x (no copy; autograd never writes into a leaf's data).
            NDArray leaf = x.stopGradient();
            leaf.attach(scratch);
            leaf.setRequiresGradient(true);
            NDArray loss = lossOf.apply(leaf);
            if (loss.getShape().size() != 1) {
                throw new IllegalArgumentException("loss must be a scalar, got shape " + loss.getShape());
            }
            JniUtils.backward((PtNDArray) loss, (PtNDArray) loss.onesLike(), false, false);
            // leaf.grad is a tensor of its own (no graph); returned as is, without a copy: the
            // leaf is never used again, so nothing writes into it.
            NDArray grad = JniUtils.getGradient((PtNDArray) leaf);
            grad.attach(scratch);
            return grad;
        } finally {
            JniUtils.setGradMode(before);
        }
    }

    /**
     * The gradient at {@code x} of a loss that is reached through {@code f}: {@code y = f(leaf)} is
     * built in the graph, {@code upstream} returns d loss / d y from a detached alias of y
     * (computed however it likes, e.g. in micro-batches with graphs of their own), and one
     * backward of {@code f}'s graph carries it to x. Where {@code f} is the identity the upstream
     * gradient is the result. Everything lives in {@code scratch}.
     */
    public static NDArray vectorJacobian(NDArray x, Function<NDArray, NDArray> f, Function<NDArray, NDArray> upstream,
            ai.djl.ndarray.NDManager scratch) {
        return vectorJacobians(x, f, y -> java.util.List.of(upstream.apply(y)), 1, scratch).get(0);
    }

    /**
     * As {@link #vectorJacobian}, for several upstream gradients through one graph of {@code f}:
     * {@code f} is built once (so whatever it draws is drawn once), {@code upstream} returns
     * {@code count} gradients d loss_j / d y, and each is carried back to x by a backward of its
     * own (the graph kept until the last), the leaf's gradient copied out and zeroed in between so
     * the results are exactly the separate vector-Jacobian products. Ensemble strategies ask for
     * every surrogate's gradient through the same transformed inputs this way.
     */
    public static java.util.List<NDArray> vectorJacobians(NDArray x, Function<NDArray, NDArray> f,
            Function<NDArray, java.util.List<NDArray>> upstream, int count, ai.djl.ndarray.NDManager scratch) {
        boolean before = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        try {
            NDArray leaf = x.stopGradient();
            leaf.attach(scratch);
            leaf.setRequiresGradient(true);
            NDArray y = f.apply(leaf);
            if (y == leaf) {
                return upstream.apply(leaf.stopGradient());
            }
            NDArray detached = y.stopGradient();
            detached.attach(scratch);
            java.util.List<NDArray> gys = upstream.apply(detached);
            if (gys.size() != count) {
                throw new IllegalArgumentException("expected " + count + " upstream gradients, got " + gys.size());
            }
            java.util.List<NDArray> out = new java.util.ArrayList<>(count);
            for (int j = 0; j < count; j++) {
                NDArray gy = gys.get(j);
                if (!gy.getShape().equals(y.getShape())) {
                    throw new IllegalArgumentException("upstream gradient " + gy.getShape() + " for output " + y.getShape());
                }
                JniUtils.backward((PtNDArray) y, (PtNDArray) gy, j < count - 1, false);
                NDArray grad = JniUtils.getGradient((PtNDArray) leaf);
                if (j < count - 1) {
                    // The leaf's grad tensor is reused by the next backward: copy it out, then zero
                    // it (0 + v is v exactly, so each result is its own product, not a difference).
                    grad = grad.duplicate();
                    JniUtils.zeroGrad((PtNDArray) leaf);
                }
                grad.attach(scratch);
                out.add(grad);
            }
            return out;
        } finally {
            JniUtils.setGradMode(before);
        }
    }
}
