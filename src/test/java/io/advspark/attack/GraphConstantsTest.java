package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.input.InputTransform;
import io.advspark.model.Autograd;
import io.advspark.model.TorchRuntime;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The constants the block transforms build in Java and feed to the autograd graph (BSR's and
 * rotate's gather indices and bilinear weights, SIA's noise, dropout factors and DCT projectors)
 * stay valid until the backward. DJL's CPU {@code create(float[])} / {@code create(long[])}
 * copies the values into a direct ByteBuffer that libtorch aliases ({@code torch::from_blob}, no
 * copy of its own) and that only the NDArray object keeps reachable: closing the array while the
 * graph still holds the tensor lets the garbage collector free memory the backward then reads
 * (platform pitfall; {@code ModelAugmentation.toArrays} copies its masks into libtorch memory for
 * that reason). Here the same gradient is taken many times with the collector run and fresh
 * direct memory scribbled with NaN between building the graph and the backward, and must come
 * out the same bits every time; a control shows that this churn does expose the freed number of
 * DJL's {@code mul(Number)} (before the fix, SIA failed here: a block's scale factor
 * {@code b.mul(f)} was read from freed memory, e.g. -2.96e24 instead of 1.84).
 */
class GraphConstantsTest {
    private static final int REPEATS = 25;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sia(blocks=3, copies=4, ops=all)", "bsr(blocks=2, degrees=24, copies=4)",
        "rotate(degrees=30)", "si(copies=3)"})
    void gradientIsTheSameBitsEveryTime(String spec) {
        TorchRuntime.start(2);
        InputTransform t = Parts.input(spec);
        float[][] g = repeat(2, (leaf, seeds) -> t.apply(leaf, ctx(leaf, seeds)));
        for (int i = 1; i < g.length; i++) {
            assertArrayEquals(g[0], g[i], spec + ": gradient " + i + " differs from the first");
        }
        assertTrue(allFinite(g[0]), spec + ": non-finite gradient");
    }

    /**
     * The losses put numbers in the graph too (weights, caps, margins): read as logits, the same
     * pixels' gradient through each loss must come out the same bits every time.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ce(untargeted=1, targeted=0)", "ce(untargeted=-1, targeted=4)",
        "margin(targeted=false, kappa=0.5)", "potrip(lambda=0.5, margin=0.3)"})
    void lossGradientIsTheSameBitsEveryTime(String spec) {
        TorchRuntime.start(2);
        io.advspark.attack.loss.Loss loss = Parts.loss(spec);
        int rows = 3;
        int[] labels = {1, 7, 200};
        int[] targets = {5, 3, 900};
        float[][] g = repeat(1, (leaf, seeds) -> loss.of(leaf.reshape(rows, -1).mul(Autograd.scalar(leaf.getManager(), 8f)),
                labels, targets));
        for (int i = 1; i < g.length; i++) {
            assertArrayEquals(g[0], g[i], spec + ": gradient " + i + " differs from the first");
        }
        assertTrue(allFinite(g[0]), spec + ": non-finite gradient");
    }

    /**
     * The control, and the root cause of SIA's intermittent garbage gradients: DJL's
     * {@code mul(Number)} wraps the number in such an array and closes it right after the op,
     * while the mul's backward still reads it. With the churn the gradient, exactly 2.5 w while
     * the number lives, comes out different or non-finite.
     */
    @Test
    void theChurnExposesDjlsScalarOverloadInAGraph() {
        TorchRuntime.start(2);
        float[][] g = repeat(1, (leaf, seeds) -> leaf.mul(2.5f));
        boolean broken = false;
        for (float[] gi : g) {
            broken |= !Arrays.equals(gi, g[0]) || !allFinite(gi);
        }
        assertTrue(broken, "the churn did not expose mul(Number)'s freed number: the repeat test would prove nothing");
    }

    /** The fix on the same graph: the number as an array libtorch owns survives the churn. */
    @Test
    void anOwnedScalarSurvivesTheChurn() {
        TorchRuntime.start(2);
        float[][] g = repeat(1, (leaf, seeds) -> leaf.mul(Autograd.scalar(leaf.getManager(), 2.5f)));
        for (int i = 1; i < g.length; i++) {
            assertArrayEquals(g[0], g[i], "gradient " + i + " differs from the first");
        }
        assertTrue(allFinite(g[0]));
    }

    /** d sum(f(x) * w) / dx, REPEATS times, with the churn between the graph and its backward. */
    private static float[][] repeat(int images, BiFunction<NDArray, long[], NDArray> f) {
        Random rnd = new Random(5);
        long[] shape = {images, 3, 32, 32};
        float[] xs = new float[images * 3 * 32 * 32];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = rnd.nextFloat();
        }
        long[] seeds = new long[images];
        for (int k = 0; k < images; k++) {
            seeds[k] = 1000 + k;
        }
        float[][] out = new float[REPEATS][];
        try (NDManager m = TorchRuntime.newManager(Device.cpu())) {
            NDArray x = m.create(xs, new Shape(shape));
            for (int r = 0; r < REPEATS; r++) {
                List<ByteBuffer> scribbles = new ArrayList<>();
                NDArray[] w = new NDArray[1];
                try (NDManager scratch = m.newSubManager()) {
                    out[r] = Autograd.gradient(x, leaf -> {
                        NDArray y = f.apply(leaf, seeds).reshape(-1);
                        if (w[0] == null) {
                            float[] ws = new float[(int) y.getShape().size()];
                            Random wr = new Random(9);
                            for (int i = 0; i < ws.length; i++) {
                                ws[i] = wr.nextFloat();
                            }
                            w[0] = scratch.create(ws, y.getShape()).duplicate();
                        }
                        scribbles.addAll(churn());
                        return y.mul(w[0]).sum();
                    }, scratch).toFloatArray();
                }
                scribbles.clear();
            }
        }
        return out;
    }

    private static StepContext ctx(NDArray x, long[] seeds) {
        return new StepContext(0, 10, new Draws(seeds), x, 16 / 255f, 1.6f / 255f);
    }

    /** Runs the collector, then fills freshly allocated direct buffers of many sizes with NaN bytes (kept until after the backward). */
    private static List<ByteBuffer> churn() {
        System.gc();
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<ByteBuffer> keep = new ArrayList<>();
        byte[] nan = new byte[1 << 17];
        Arrays.fill(nan, (byte) 0xff);
        for (int i = 0; i < 600; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(16 << (i % 14));
            b.put(nan, 0, b.capacity());
            keep.add(b);
        }
        return keep;
    }

    private static boolean allFinite(float[] a) {
        for (float v : a) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}
