package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.StepContext;
import io.advspark.model.Autograd;
import io.advspark.model.BilinearResize;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * SIA, the structure invariant attack (Wang, Zhang and Zhang, "Structure Invariant Transformation
 * for better Adversarial Transferability", ICCV 2023): each copy of an image is cut into an
 * s x s grid of random blocks and every block gets its own image transformation, chosen at random
 * from a fixed set; the loss is averaged over {@code copies} such images. Copy j of row r is at
 * row {@code j * rows + r} ({@code cat([blocktransform(x) for _ in range(num_copies)])}).
 *
 * <p>The grid, per row and copy: s - 1 distinct cut rows drawn uniformly from 1..H-1 and sorted,
 * likewise s - 1 cut columns from 1..W-1 (the official {@code np.random.choice(range(1, h), s - 1,
 * replace=False)}), so every block is at least 1 x 1 and blocks differ in size; an image smaller
 * than s pixels a side gets H (or W) strips of one pixel.
 *
 * <p>The transformations, on a block b of bh x bw pixels (all channels), with {@code ops=all} in
 * this order (the ten of the official SIT code, {@code self.op}), with {@code ops=core} the seven
 * marked *, in the order of TransferAttack's {@code sia.py}:
 * <ol>
 *   <li>resize: bilinear (half-pixel, no antialiasing) down to {@code (int(0.8 bh) + 1) x
 *       (int(0.8 bw) + 1)} and back to bh x bw, clipped to [0, 1] ({@link BilinearResize},
 *       libtorch's own kernel);
 *   <li>* vertical shift: a cyclic roll down by k rows, k uniform in 0..bh-1 ({@code roll(k, dims=2)});
 *   <li>* horizontal shift: a cyclic roll right by k columns, k uniform in 0..bw-1;
 *   <li>* vertical flip (upside down);
 *   <li>* horizontal flip (mirror);
 *   <li>* rotation by 180 degrees;
 *   <li>* scale: {@code f * b}, f uniform in [0, 1);
 *   <li>* noise: {@code clip(b + U(-16/255, 16/255), 0, 1)}, one value per pixel and channel;
 *   <li>DCT: per channel, the orthonormal 2-D DCT-II of the block with its highest
 *       {@code int(0.4 bh)} row frequencies and {@code int(0.4 bw)} column frequencies set to zero,
 *       inverted: the projector {@code P = D^T diag(mask) D} of each side applied to the rows,
 *       then to the columns (a side with nothing zeroed is left as it is); the value computed in
 *       float64 and rounded to float32 once, the gradient through the float32 projectors;
 *   <li>dropout: each channel of the block zeroed with probability 0.1, the others scaled by
 *       1 / 0.9 ({@code F.dropout2d(b, p=0.1, training=True)}).
 * </ol>
 *
 * <p>Draws, per row r (image r mod N) in row order, from {@code ctx.draws().rng(r)}, and per row
 * for copy j = 0..copies-1 in order: the cut rows (a partial Fisher-Yates shuffle of the candidates
 * 1..H-1: for i = 0..s-2, {@code k = i + nextInt(H - 1 - i)}, swap i and k, take the first s - 1,
 * sorted), the cut columns likewise, then for each block in row-major order: the transformation
 * ({@code nextInt(number of ops)}), then that transformation's own draws: the shift k
 * ({@code nextInt(bh)} or {@code nextInt(bw)}), the scale f ({@code nextFloat}), the noise
 * (C x bh x bw values {@code -16/255 + (32/255) nextFloat()} in float, channel-major then
 * row-major), the dropout (C values, channel c dropped if {@code nextFloat() < 0.1}); the others
 * draw nothing. So an image's result depends only on its own stream.
 *
 * <p>Differentiable in x: shifts, flips and the rotation are index permutations (slices and
 * concatenations), scale, dropout, resize and DCT linear maps, noise an addition; resize and noise
 * clip to [0, 1] (zero gradient where clipped, as {@code torch.clamp}). No straight-through part.
 * Every value drawn or built in Java (scale factors, noise, dropout factors, DCT projectors)
 * enters the graph as an array libtorch owns ({@link Autograd#constant}, {@link Autograd#scalar}),
 * never through DJL's {@code mul(Number)}, which frees its wrapped number before the backward
 * reads it: that was the intermittent garbage gradient of the first versions (a scale factor
 * read from freed memory, often another block's value, so results also looked batch-dependent).
 *
 * <p>Versus the official code: it draws the grid, the choices and the shift and scale values once
 * per batch (noise and dropout per image); here every image draws its own. Two of its edge cases
 * are not reproduced: its resize swaps height and width of the intermediate size for non-square
 * blocks ({@code _, _, w, h = x.shape} then {@code size=(new_h, new_w)}), and its DCT zeroes a
 * whole block with a side of 1 or 2 pixels ({@code dctx[..., -0:, :] = 0} when
 * {@code int(0.4 n) = 0}); here the intermediate size keeps the block's orientation and such a
 * side keeps all its frequencies.
 *
 * <p>Published defaults: a 3 x 3 grid and 20 copies (the paper's s = 3, N = 20; the official
 * code's {@code num_block=3}, {@code num_copies=20}). Spec {@code sia(blocks=3, copies=20, ops=all)}.
 */
public record Sia(int blocks, int copies, String ops) implements InputTransform {
    public static final Entry<Sia> DECLARATION = Entry.of(Kind.INPUT, "sia", Sia.class)
            .summary("Structure invariant transformation: an s x s grid of random blocks, each block transformed by a randomly chosen image transformation; copies in one forward")
            .paper("Wang et al., \"Structure Invariant Transformation for better Adversarial Transferability\", ICCV 2023")
            .param(Param.integer("blocks", 3, 1, 16,
                    "blocks per side (an s x s grid)"))
            .param(Param.integer("copies", 20, 1, 64,
                    "transformed copies per step"))
            .param(Param.choice("ops", "all",
                    "block transformations: all (the ten of the official code) or core (TransferAttack's seven: no resize, DCT, dropout)",
                    "all", "core"))
            .randomised()
            .build(s -> new Sia(s.integer("blocks"), s.integer("copies"), s.choice("ops")));

    /** Additive noise bound of the noise transformation on the [0,1] scale (the official 16/255). */
    static final float NOISE = 16f / 255f;
    /** Channel drop probability of the dropout transformation. */
    static final double DROP = 0.1;

    /** The block transformations. */
    public enum Op { RESIZE, VSHIFT, HSHIFT, VFLIP, HFLIP, ROTATE180, SCALE, NOISE, DCT, DROPOUT }

    private static final List<Op> ALL = List.of(Op.RESIZE, Op.VSHIFT, Op.HSHIFT, Op.VFLIP, Op.HFLIP, Op.ROTATE180,
            Op.SCALE, Op.NOISE, Op.DCT, Op.DROPOUT);
    private static final List<Op> CORE = List.of(Op.VSHIFT, Op.HSHIFT, Op.VFLIP, Op.HFLIP, Op.ROTATE180, Op.SCALE,
            Op.NOISE);

    public Sia {
        if (!ops.equals("all") && !ops.equals("core")) {
            throw new IllegalArgumentException("sia ops must be all or core, not " + ops);
        }
    }

    /**
     * One block's transformation and its draws: the shift, the scale factor, or the values (noise
     * per channel, row, column; the dropout factor per channel, 0 or 1 / 0.9).
     */
    public record Block(Op op, int shift, float factor, float[] values) {}

    /** The draws of one copy of one row: cut rows and columns (with 0 and H, W), blocks row-major. */
    public record Plan(int[] rowCuts, int[] colCuts, Block[] blocks) {}

    /** The transformations this instance chooses from, in the order their index is drawn. */
    public List<Op> choices() {
        return ops.equals("all") ? ALL : CORE;
    }

    /** Draws the plans of {@code rows} rows of C x H x W images in the documented order: {@code out[r][j]}. */
    public Plan[][] plan(StepContext ctx, int rows, int c, int h, int w) {
        List<Op> choices = choices();
        float keep = (float) (1.0 / (1.0 - DROP));
        Plan[][] out = new Plan[rows][copies];
        for (int r = 0; r < rows; r++) {
            Random g = ctx.draws().rng(r);
            for (int j = 0; j < copies; j++) {
                int[] ys = cuts(g, blocks, h);
                int[] xs = cuts(g, blocks, w);
                Block[] bl = new Block[(ys.length - 1) * (xs.length - 1)];
                int k = 0;
                for (int a = 0; a + 1 < ys.length; a++) {
                    for (int b = 0; b + 1 < xs.length; b++) {
                        int bh = ys[a + 1] - ys[a];
                        int bw = xs[b + 1] - xs[b];
                        Op op = choices.get(g.nextInt(choices.size()));
                        bl[k++] = switch (op) {
                            case VSHIFT -> new Block(op, g.nextInt(bh), 1f, null);
                            case HSHIFT -> new Block(op, g.nextInt(bw), 1f, null);
                            case SCALE -> new Block(op, 0, g.nextFloat(), null);
                            case NOISE -> {
                                float[] v = new float[c * bh * bw];
                                for (int i = 0; i < v.length; i++) {
                                    v[i] = -NOISE + (NOISE - -NOISE) * g.nextFloat();
                                }
                                yield new Block(op, 0, 1f, v);
                            }
                            case DROPOUT -> {
                                float[] v = new float[c];
                                for (int i = 0; i < c; i++) {
                                    v[i] = g.nextFloat() < DROP ? 0f : keep;
                                }
                                yield new Block(op, 0, 1f, v);
                            }
                            default -> new Block(op, 0, 1f, null);
                        };
                    }
                }
                out[r][j] = new Plan(ys, xs, bl);
            }
        }
        return out;
    }

    /** 0, the sorted distinct cuts drawn from 1..len-1 (min(s, len) - 1 of them), len. */
    static int[] cuts(Random g, int s, int len) {
        int m = Math.min(s, len) - 1;
        int[] cand = new int[len - 1];
        for (int i = 0; i < cand.length; i++) {
            cand[i] = i + 1;
        }
        for (int i = 0; i < m; i++) {
            int k = i + g.nextInt(cand.length - i);
            int t = cand[i];
            cand[i] = cand[k];
            cand[k] = t;
        }
        int[] out = new int[m + 2];
        System.arraycopy(cand, 0, out, 1, m);
        Arrays.sort(out, 1, m + 1);
        out[m + 1] = len;
        return out;
    }

    @Override
    public NDArray apply(NDArray x, StepContext ctx) {
        Shape s = x.getShape();
        return apply(x, plan(ctx, (int) s.get(0), (int) s.get(1), (int) s.get(2), (int) s.get(3)));
    }

    /** SIA with the given plans ({@code plans[r][j]}); differentiable. */
    public NDArray apply(NDArray x, Plan[][] plans) {
        int rows = (int) x.getShape().get(0);
        NDList rowsIn = new NDList(rows);
        for (int r = 0; r < rows; r++) {
            rowsIn.add(x.get(new NDIndex("{}:{}", r, r + 1)));
        }
        NDList out = new NDList(copies * rows);
        for (int j = 0; j < copies; j++) {
            for (int r = 0; r < rows; r++) {
                out.add(image(rowsIn.get(r), plans[r][j]));
            }
        }
        return Rows.concat(out);
    }

    /** One transformed copy of one image [1,C,H,W]. */
    private static NDArray image(NDArray xi, Plan p) {
        int[] ys = p.rowCuts();
        int[] xs = p.colCuts();
        NDList strips = new NDList(ys.length - 1);
        int k = 0;
        for (int a = 0; a + 1 < ys.length; a++) {
            NDList row = new NDList(xs.length - 1);
            for (int b = 0; b + 1 < xs.length; b++) {
                NDArray blk = xi.get(new NDIndex(":, :, {}:{}, {}:{}", ys[a], ys[a + 1], xs[b], xs[b + 1]));
                row.add(transform(blk, p.blocks()[k++]));
            }
            strips.add(cat(row, 3));
        }
        return cat(strips, 2);
    }

    /** One block [1,C,bh,bw] transformed. */
    static NDArray transform(NDArray b, Block t) {
        Shape s = b.getShape();
        int c = (int) s.get(1);
        int bh = (int) s.get(2);
        int bw = (int) s.get(3);
        NDManager m = b.getManager();
        return switch (t.op()) {
            case RESIZE -> {
                int dh = (int) (bh * 0.8) + 1;
                int dw = (int) (bw * 0.8) + 1;
                try (BilinearResize down = new BilinearResize(m, bh, bw, dh, dw);
                        BilinearResize up = new BilinearResize(m, dh, dw, bh, bw)) {
                    yield up.apply(down.apply(b)).clip(0f, 1f);
                }
            }
            case VSHIFT -> roll(b, t.shift(), 2, bh);
            case HSHIFT -> roll(b, t.shift(), 3, bw);
            case VFLIP -> b.flip(2);
            case HFLIP -> b.flip(3);
            case ROTATE180 -> b.flip(2, 3);
            case SCALE -> b.mul(Autograd.scalar(m, t.factor()));
            case NOISE -> b.add(Autograd.constant(m, t.values(), s)).clip(0f, 1f);
            case DCT -> {
                int kh = bh - (int) (bh * 0.4);
                int kw = bw - (int) (bw * 0.4);
                if (kh == bh && kw == bw) {
                    yield b;
                }
                // The value in float64, rounded to float32 once (as SSA): a float32 matrix
                // product rounds differently in each BLAS build, and the surrogates amplify
                // last-bit input differences into 1e-4 relative gradient differences. The gradient
                // flows through the same projectors in float32; lin - stopGradient(lin) is exactly
                // zero, so the value stays the float64 one.
                NDArray value = lowPass(b.stopGradient().toType(DataType.FLOAT64, false), kh, kw, DataType.FLOAT64)
                        .toType(DataType.FLOAT32, false);
                NDArray lin = lowPass(b, kh, kw, DataType.FLOAT32);
                yield value.add(lin.sub(lin.stopGradient()));
            }
            case DROPOUT -> b.mul(Autograd.constant(m, t.values(), new Shape(1, c, 1, 1)));
        };
    }

    /**
     * {@code roll(k, dims=axis)}: element i of the result is element (i - k) mod n of b (also
     * OPS's cyclic shifts of whole images).
     */
    static NDArray roll(NDArray b, int k, int axis, int n) {
        if (k == 0) {
            return b;
        }
        String tail = axis == 2 ? ":, :, {}:, :" : ":, :, :, {}:";
        String head = axis == 2 ? ":, :, :{}, :" : ":, :, :, :{}";
        return cat(new NDList(b.get(new NDIndex(tail, n - k)), b.get(new NDIndex(head, n - k))), axis);
    }

    /**
     * Block b [1,C,bh,bw] with the row frequencies from kh and the column frequencies from kw
     * zeroed: {@code P_h b P_w} with the projectors of {@link #lowPass(int, int)} in {@code type}
     * (a side with nothing zeroed is left as it is; P is symmetric, so right-multiplying by it
     * filters the rows).
     */
    private static NDArray lowPass(NDArray b, int kh, int kw, DataType type) {
        NDManager m = b.getManager();
        int bh = (int) b.getShape().get(2);
        int bw = (int) b.getShape().get(3);
        NDArray out = b;
        if (kh < bh) {
            out = projector(m, bh, kh, type).matMul(out);
        }
        if (kw < bw) {
            out = out.matMul(projector(m, bw, kw, type));
        }
        return out;
    }

    /** The n x n projector of {@link #lowPass(int, int)} as an array libtorch owns, float64 or rounded to float32. */
    private static NDArray projector(NDManager m, int n, int k, DataType type) {
        double[] p = lowPass(n, k);
        if (type == DataType.FLOAT64) {
            return Autograd.constant(m, p, new Shape(n, n));
        }
        float[] f = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            f[i] = (float) p[i];
        }
        return Autograd.constant(m, f, new Shape(n, n));
    }

    /** {@code D^T diag(u < k) D} for the orthonormal n-point DCT-II D, in float64, row-major. */
    static double[] lowPass(int n, int k) {
        double[][] d = new double[n][n];
        for (int u = 0; u < n; u++) {
            double a = u == 0 ? Math.sqrt(1.0 / n) : Math.sqrt(2.0 / n);
            for (int x = 0; x < n; x++) {
                d[u][x] = a * Math.cos(Math.PI * (2 * x + 1) * u / (2.0 * n));
            }
        }
        double[] p = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int u = 0; u < k; u++) {
                    s += d[u][i] * d[u][j];
                }
                p[i * n + j] = s;
            }
        }
        return p;
    }

    /** Concatenation on {@code axis}; one part is returned as it is (see {@link Rows#concat}). */
    private static NDArray cat(NDList parts, int axis) {
        return parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, axis);
    }

    /**
     * Row-sized arrays per copy that its graph holds until the backward, the copy included (the
     * memory estimate's figure): from the peak that {@code jobs/bench --parts} measured, 3397 MiB
     * for 20 copies of ten 299 x 299 images, less the surrogates' activations, the inputs and the
     * step's fixed part (docs/memory.md).
     */
    @Override
    public double graphRowsPerOutputRow() {
        return 6;
    }

    @Override
    public int copies() {
        return copies;
    }
}
