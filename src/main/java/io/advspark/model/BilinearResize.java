package io.advspark.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Differentiable bilinear resize with half-pixel centres and no antialiasing, i.e. exactly
 * {@code torch.nn.functional.interpolate(x, size, mode="bilinear", align_corners=False)} (TF2
 * {@code resize(..., antialias=False)}, OpenCV {@code INTER_LINEAR}), the contract of the model
 * cards.
 *
 * <p>Why not DJL's resize: DJL's PyTorch {@code interpolate} antialiases when downscaling, which
 * is a different function (the ImageNet MobileNets lose 2-4 points of accuracy with it, and its
 * gradients differ entirely). This is built from two gathers and weighted sums, with the source
 * indices and weights computed in float32 exactly as ATen's {@code upsample_bilinear2d} does, so
 * forward and backward match PyTorch to float rounding.
 */
public final class BilinearResize implements AutoCloseable {
    private final int outH;
    private final int outW;
    private final NDArray h0;
    private final NDArray h1;
    private final NDArray hl0;
    private final NDArray hl1;
    private final NDArray w0;
    private final NDArray w1;
    private final NDArray wl0;
    private final NDArray wl1;

    /** Plans a resize from {@code inH x inW} to {@code outH x outW}; arrays live in {@code manager}. */
    public BilinearResize(NDManager manager, int inH, int inW, int outH, int outW) {
        this.outH = outH;
        this.outW = outW;
        Axis h = axis(inH, outH);
        Axis w = axis(inW, outW);
        this.h0 = owned(manager.create(h.i0, new Shape(1, 1, outH, 1)));
        this.h1 = owned(manager.create(h.i1, new Shape(1, 1, outH, 1)));
        this.hl0 = owned(manager.create(h.l0, new Shape(1, 1, outH, 1)));
        this.hl1 = owned(manager.create(h.l1, new Shape(1, 1, outH, 1)));
        this.w0 = owned(manager.create(w.i0, new Shape(1, 1, 1, outW)));
        this.w1 = owned(manager.create(w.i1, new Shape(1, 1, 1, outW)));
        this.wl0 = owned(manager.create(w.l0, new Shape(1, 1, 1, outW)));
        this.wl1 = owned(manager.create(w.l1, new Shape(1, 1, 1, outW)));
    }

    /**
     * A copy of {@code a} in memory libtorch owns. On CPU, DJL's {@code create(array)} wraps a
     * Java direct buffer without copying ({@code from_blob}) and only the Java array object keeps
     * that buffer alive; but the autograd graph saves the gather indices and weights for the
     * backward pass. A plan closed between forward and backward (DI closes its per-row plans)
     * would leave the graph reading freed memory once the garbage collector releases the buffer:
     * seen as "index 140181479666144 is out of bounds" in backward during an MI-DI run with
     * dropout, whose masks made the collector run often. libtorch-owned storage is reference
     * counted by the graph, so closing the plan is safe.
     */
    private static NDArray owned(NDArray a) {
        NDArray c = a.duplicate();
        a.close();
        return c;
    }

    private record Axis(long[] i0, long[] i1, float[] l0, float[] l1) {}

    /** ATen's area_pixel_compute_source_index + the upsample_bilinear2d neighbour rule. */
    static Axis axis(int in, int out) {
        float scale = (float) in / (float) out;
        long[] i0 = new long[out];
        long[] i1 = new long[out];
        float[] l0 = new float[out];
        float[] l1 = new float[out];
        for (int d = 0; d < out; d++) {
            float src = scale * (d + 0.5f) - 0.5f;
            if (src < 0) {
                src = 0;
            }
            int lo = (int) src;
            int step = lo < in - 1 ? 1 : 0;
            float lambda1 = src - lo;
            i0[d] = lo;
            i1[d] = lo + step;
            l1[d] = lambda1;
            l0[d] = 1f - lambda1;
        }
        return new Axis(i0, i1, l0, l1);
    }

    /** Resizes {@code x} [N,C,H,W]; the result is in {@code x}'s manager and in its graph. */
    public NDArray apply(NDArray x) {
        Shape s = x.getShape();
        long n = s.get(0);
        long c = s.get(1);
        long inH = s.get(2);
        Shape byW = new Shape(n, c, inH, outW);
        // Along W: t = l0 * x[..., w0] + l1 * x[..., w1]; then the same along H.
        NDArray t = x.gather(w0.broadcast(byW), 3).mul(wl0).add(x.gather(w1.broadcast(byW), 3).mul(wl1));
        Shape byH = new Shape(n, c, outH, outW);
        return t.gather(h0.broadcast(byH), 2).mul(hl0).add(t.gather(h1.broadcast(byH), 2).mul(hl1));
    }

    @Override
    public void close() {
        for (NDArray a : new NDArray[] {h0, h1, hl0, hl1, w0, w1, wl0, wl1}) {
            a.close();
        }
    }
}
