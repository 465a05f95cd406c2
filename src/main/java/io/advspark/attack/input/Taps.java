package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.advspark.model.Autograd;

/**
 * A resampling of a batch [rows, C, H, W] into a batch of the same shape, planned in Java and
 * applied by gathers: output pixel p of row r and channel c is
 * {@code sum_k wt[k][r, p] * x[r, c, idx[k][r, p]]}, the same map on every channel. Index
 * permutations (block shuffles) are one tap of weight 1; bilinear sampling (rotations) is four.
 * A tap never set has weight 0, so what no tap reaches is zero. Differentiable in x: a gather's
 * backward is a scatter-add. The indices and weights enter the graph as copies libtorch owns
 * ({@link Autograd#constant}), since the backward reads both. Shared by {@link Rotate} (one rotation of the whole image) and
 * {@link Bsr} (a rotation per block, with the blocks shuffled).
 */
final class Taps {
    private final int rows;
    private final int h;
    private final int w;
    private final int hw;
    private final long[][] idx;
    private final float[][] wt;
    private final boolean[] used;

    /** An empty map (every output pixel zero) with up to {@code taps} taps per pixel. */
    Taps(int rows, int h, int w, int taps) {
        this.rows = rows;
        this.h = h;
        this.w = w;
        this.hw = h * w;
        this.idx = new long[taps][rows * hw];
        this.wt = new float[taps][rows * hw];
        this.used = new boolean[taps];
    }

    /** Tap {@code k} of output pixel (y, x) of row r reads input pixel (sy, sx) of the same row with {@code weight}. */
    void set(int r, int y, int x, int k, int sy, int sx, float weight) {
        int o = r * hw + y * w + x;
        idx[k][o] = (long) sy * w + sx;
        wt[k][o] = weight;
        used[k] = true;
    }

    /**
     * Writes into the output block {@code [oy0, oy0 + bh) x [ox0, ox0 + bw)} of row r the input
     * block {@code [sy0, sy0 + bh) x [sx0, sx0 + bw)} rotated by {@code theta} radians
     * (counter-clockwise on screen) about its own centre {@code ((bh - 1) / 2, (bw - 1) / 2)},
     * bilinear, each of the four taps dropped (zero) where it falls outside the input block: the
     * block is rotated as an image of its own. Output pixel (y, x) of the block samples the block
     * at {@code sx = cos(t) (x - cx) + sin(t) (y - cy) + cx}, {@code sy = -sin(t) (x - cx) +
     * cos(t) (y - cy) + cy}, in double; the weights are rounded to float. Uses taps 0..3, in the
     * order (y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1).
     */
    void rotate(int r, int oy0, int ox0, int sy0, int sx0, int bh, int bw, double theta) {
        double cy = (bh - 1) / 2.0;
        double cx = (bw - 1) / 2.0;
        double cos = Math.cos(theta);
        double sin = Math.sin(theta);
        for (int y = 0; y < bh; y++) {
            for (int x = 0; x < bw; x++) {
                double sx = cos * (x - cx) + sin * (y - cy) + cx;
                double sy = -sin * (x - cx) + cos * (y - cy) + cy;
                int x0 = (int) Math.floor(sx);
                int y0 = (int) Math.floor(sy);
                double fx = sx - x0;
                double fy = sy - y0;
                int k = 0;
                for (int dy = 0; dy <= 1; dy++) {
                    for (int dx = 0; dx <= 1; dx++, k++) {
                        int yy = y0 + dy;
                        int xx = x0 + dx;
                        double weight = (dx == 1 ? fx : 1 - fx) * (dy == 1 ? fy : 1 - fy);
                        if (yy >= 0 && yy < bh && xx >= 0 && xx < bw) {
                            set(r, oy0 + y, ox0 + x, k, sy0 + yy, sx0 + xx, (float) weight);
                        }
                    }
                }
            }
        }
    }

    /** Applies the map to {@code x} [rows, C, H, W] (in the autograd graph); same shape out. */
    NDArray apply(NDArray x) {
        Shape s = x.getShape();
        if (s.get(0) != rows || s.get(2) != h || s.get(3) != w) {
            throw new IllegalArgumentException("map planned for " + rows + " rows of " + h + "x" + w + ", applied to " + s);
        }
        int c = (int) s.get(1);
        NDManager m = x.getManager();
        NDArray flat = x.reshape(rows, c, hw);
        Shape full = new Shape(rows, c, hw);
        NDArray out = null;
        for (int k = 0; k < idx.length; k++) {
            if (!used[k]) {
                continue;
            }
            NDArray ik = Autograd.constant(m, idx[k], new Shape(rows, 1, hw)).broadcast(full);
            NDArray gathered = flat.gather(ik, 2);
            NDArray term = gathered.mul(Autograd.constant(m, wt[k], new Shape(rows, 1, hw)));
            // Handles freed as soon as used: the graph keeps what its backward needs (the index,
            // the weights), and OPS composes thousands of these per step.
            gathered.close();
            if (out == null) {
                out = term;
            } else {
                NDArray sum = out.add(term);
                out.close();
                term.close();
                out = sum;
            }
        }
        return out == null ? x.mul(Autograd.scalar(m, 0f)) : out.reshape(rows, c, h, w);
    }
}
