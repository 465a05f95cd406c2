package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.InputGradients;
import io.advspark.attack.StepContext;
import io.advspark.model.Autograd;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

/**
 * DeCowA, the deformation-constrained warping attack (Lin, Liang, Qian, Zhang, Zhang, Chen and
 * Gong, "Boosting Adversarial Transferability across Model Genus by Deformation-Constrained
 * Warping", AAAI 2024, arXiv 2402.03951): the loss is averaged over {@code copies} elastically
 * warped copies of each image, each warp first pushed one gradient step toward the warp that
 * <em>lowers</em> the attack's loss most (the worst case for the attack), so the perturbation has
 * to survive adversarial local deformations. Copy j of row r is at row {@code j * rows + r}.
 *
 * <p>The warp of one copy. A regular mesh x mesh grid of control points X over the image in the
 * sampling grid's [-1, 1] coordinates (point (a, b), row-major, at {@code x = -1 + 2b/(mesh-1)},
 * {@code y = -1 + 2a/(mesh-1)}) is moved to Y = X + n, where only the (mesh-2)^2 inner points
 * move (the border points stay, which constrains the deformation) by a noise map n. A
 * thin-plate spline f with f(X_i) = Y_i (kernel {@code U(d^2) = d^2 log(d^2 + 1e-9)}, the affine
 * part [1, x, y]; the (k+3) x (k+3) system {@code [[K, P], [P^T, 0]] [W; A] = [Y; 0]}) maps
 * output pixel (row u, column v) at {@code p = (-1 + 2v/(W-1), -1 + 2u/(H-1))} to the sampling
 * point f(p); the image is sampled there bilinearly with zeros outside, align_corners=false
 * (pixel {@code ((g + 1) size - 1) / 2}), as {@code torch.grid_sampler_2d(x, grid, 0, 0, False)}.
 *
 * <p>The inner step (the deformation constraint of the paper's title: its adaptive control of the
 * warp's strength and direction): from n_0 = U(-1/2, 1/2) * noise per coordinate,
 * {@code n = n_0 - rho d L / d n_0}, where L is the attack's loss (of the attack's fused
 * ensemble, summed over rows, so each copy's map gets its own image's gradient) of the image
 * warped by n_0, the image held constant. The outer loss is taken on the image warped by n (n
 * constant), averaged over the copies by the engine; its gradient flows into the image through
 * the sampling.
 *
 * <p>How: f is linear in Y for fixed X, so the sampling grid is {@code G = M Y} with M (HW x k)
 * depending only on the image size and the mesh: {@code M = [U(p, X), 1, p] L^-1[:, :k]}, solved
 * once per (H, W, mesh) in Java in double (cached), then {@code G = M X + M_inner n} computed in
 * double and rounded to float once, with the derivative in n of the float graph
 * {@code M_inner n} (added as {@code g - g}, exactly 0). Why double: a float product rounds the
 * grid a few ulp away from another implementation of the same spline, and the surrogates amplify
 * such last-bit input differences into 1e-4..1e-3 relative gradient differences (measured in
 * parity); rounded once, both sides agree to the bit. The bilinear weights are graph functions of G (the
 * cell indices, floor of the pixel coordinate, and the in-bounds masks detached), so G is
 * differentiable in n for the inner step, and the gathers are differentiable in the image for the
 * outer one. d L / d n_0 is the vector-Jacobian product of the warp in n_0 with the surrogates'
 * input gradient at the warped copies ({@link InputGradients}, from the engine: a forward and
 * backward of the copies' rows per surrogate, five copies at a time ({@link #copiesPerChunk()})
 * under the row cap), so a step costs two such passes:
 * the inner one and the engine's own. M and every value the backward reads enter the graph as
 * arrays libtorch owns ({@link Autograd#constant}).
 *
 * <p>Draws, per row r (image r mod N) in row order, from {@code ctx.draws().rng(r)}, then per copy
 * j = 0..copies-1: the noise map of copy j, inner points row-major, x then y per point, each
 * {@code (nextFloat() - 0.5f) * noise} in float. So an image's warps depend on its own stream
 * only. With model augmentations the inner forwards then draw their dropout masks (after all of
 * this transform's maps). The updated maps n are traced as extra state {@code decowa_noise}
 * ([copies * rows, (mesh-2)^2, 2], row {@code j * rows + r}), which parity teacher-forces; a
 * second gradient call in the same step (a sampling rule's points) overwrites it.
 *
 * <p>Versus TransferAttack's {@code decowa.py} (the authors' released code): there one noise map
 * per warp is shared by the whole batch and its inner gradient is that of the batch's mean loss;
 * here every image draws and updates its own (per image: an image's result never depends on its
 * batch-mates; for a batch of one image the two agree). Its {@code vwt} reads
 * {@code n, c, w, h = x.size()}, so a non-square image's grid is built transposed (an output
 * W x H); here the output keeps H x W, with x along the width. Its output-pixel coordinates
 * ({@code linspace(-1, 1, size)}) sampled with align_corners=false are followed as they are: at
 * n = 0 the warp is not the identity but a zoom-out by size / (size - 1) whose border pixels are
 * half blended with the zero padding (3 % on a 32-pixel image, 0.4 % at 224). The paper's
 * algorithm is followed in everything else.
 *
 * <p>Published defaults (TransferAttack's {@code decowa.py}, which the authors' repository
 * LinQinLiang/DeCoWA names as its code release): a 3 x 3 mesh (one moving point), noise scale 2
 * (n_0 in [-1, 1]), rho 0.01, 20 warped copies, one inner step, with MI-FGSM, eps 16/255, 10
 * steps, step 1.6/255, decay 1. Spec
 * {@code decowa(copies=20, mesh=3, noise=2.0, rho=0.01)}.
 */
public record Decowa(int copies, int mesh, double noise, double rho) implements InputTransform {
    public static final Entry<Decowa> DECLARATION = Entry.of(Kind.INPUT, "decowa", Decowa.class)
            .summary("Deformation-constrained warping: copies warped by a thin-plate spline whose inner control points take one gradient step toward the warp that lowers the loss; built 5 copies at a time")
            .paper("Lin et al., \"Boosting Adversarial Transferability across Model Genus by Deformation-Constrained Warping\", AAAI 2024")
            .param(Param.integer("copies", 20, 1, 64,
                    "warped copies per step (num_warping)"))
            .param(Param.integer("mesh", 3, 3, 16,
                    "control points per side; the (mesh-2)^2 inner ones move"))
            .param(Param.dbl("noise", 2.0, 0, 16,
                    "scale of the initial control-point noise, U(-1/2, 1/2) times this in [-1, 1] grid units (noise_scale)"))
            .param(Param.dbl("rho", 0.01, 0, 100,
                    "step of the inner update n - rho dL/dn toward the warp that lowers the loss"))
            .randomised()
            .build(s -> new Decowa(s.integer("copies"), s.integer("mesh"), s.dbl("noise"), s.dbl("rho")));

    /** Name of the traced inner-updated noise maps. */
    public static final String TRACE = "decowa_noise";

    /** The spline kernel's guard inside the logarithm (TransferAttack's {@code K_matrix}). */
    static final double LOG_EPS = 1e-9;

    public Decowa {
        if (copies < 1 || mesh < 3) {
            throw new IllegalArgumentException("decowa needs copies >= 1 and mesh >= 3, got " + copies + ", " + mesh);
        }
    }

    /** Moving control points per warp. */
    public int inner() {
        return (mesh - 2) * (mesh - 2);
    }

    /**
     * Row-sized arrays per copy of a chunk that its graph holds until the backward, the copy
     * included (the memory estimate's figure): from the 5265 MiB peak that {@code jobs/bench
     * --parts} measured for ten 299 x 299 images, five copies at a time (11400 and 11647 MiB with
     * all 20 at once), less the surrogates' activations, the inputs and the step's fixed part
     * (docs/memory.md).
     */
    @Override
    public double graphRowsPerOutputRow() {
        return 74;
    }

    @Override
    public int copies() {
        return copies;
    }

    @Override
    public NDArray apply(NDArray x, StepContext ctx) {
        return draw(x, ctx).render(x, 0, copies);
    }

    /**
     * {@value #CHUNK} copies at a time, both in the inner step and in the warp the surrogates see:
     * each copy's warp holds some 45 row-sized arrays until the backward (gathers, indices,
     * weights), 11.4 GiB for 20 copies of ten 299 x 299 images built at once (docs/memory.md).
     */
    @Override
    public int copiesPerChunk() {
        return Math.min(copies, CHUNK);
    }

    /** Copies built at once (see {@link #copiesPerChunk()}). */
    static final int CHUNK = 5;

    /**
     * The noise maps of every copy (the call's only draws), then the inner step of every copy, a
     * chunk at a time (a copy's update depends on its own map only, so the chunks give each copy
     * the same update as one pass over all); the updated maps are traced once, whole.
     */
    @Override
    public Chunks draw(NDArray x, StepContext ctx) {
        InputGradients models = ctx.inputGradients();
        if (models == null) {
            throw new IllegalStateException("decowa needs the surrogates' input gradient (an attack engine step)");
        }
        Shape s = x.getShape();
        int rows = (int) s.get(0);
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        NDManager m = x.getManager();
        Spline spline = Spline.of(h, w, mesh);
        float[] maps = noiseMaps(ctx, rows);
        int per = rows * inner() * 2;
        NDList updated = new NDList();
        for (int from = 0; from < copies; from += copiesPerChunk()) {
            int k = Math.min(copies, from + copiesPerChunk()) - from;
            NDArray n0 = Autograd.constant(m, java.util.Arrays.copyOfRange(maps, from * per, (from + k) * per),
                    new Shape((long) k * rows, inner(), 2));
            // The inner step: the image a constant, the maps the variable. Its warp's
            // intermediates are freed as soon as d L / d n_0 is out, not kept to the end of the
            // step like the outer warp's.
            try (NDManager inner = m.newSubManager()) {
                NDArray still = tile(x.stopGradient(), k);
                still.attach(inner);
                NDArray dn = Autograd.vectorJacobian(n0, v -> warp(still, v, spline), models::of, inner);
                // After the backward: a plain number is safe here.
                NDArray n = n0.sub(dn.mul((float) rho));
                n.attach(m);
                updated.add(n);
            }
        }
        NDArray n = updated.size() == 1 ? updated.get(0) : NDArrays.concat(updated, 0);
        models.trace(TRACE, n);
        return (in, from, to) -> warp(tile(in, to - from),
                to - from == copies ? n : n.get(new NDIndex("{}:{}", (long) from * rows, (long) to * rows)), spline);
    }

    private static NDArray tile(NDArray x, int k) {
        return k == 1 ? x : x.tile(new long[] {k, 1, 1, 1});
    }

    /** The initial noise maps in the documented draw order, at row {@code j * rows + r}: [copies * rows, inner, 2]. */
    public float[] noiseMaps(StepContext ctx, int rows) {
        int per = inner() * 2;
        float[] out = new float[copies * rows * per];
        float scale = (float) noise;
        for (int r = 0; r < rows; r++) {
            Random g = ctx.draws().rng(r);
            for (int j = 0; j < copies; j++) {
                int o = (j * rows + r) * per;
                for (int q = 0; q < per; q++) {
                    out[o + q] = (g.nextFloat() - 0.5f) * scale;
                }
            }
        }
        return out;
    }

    /**
     * {@code img} [R, C, H, W] warped by the noise maps {@code n} [R, inner, 2] (row by row):
     * differentiable in both.
     */
    static NDArray warp(NDArray img, NDArray n, Spline spline) {
        Shape s = img.getShape();
        int rows = (int) s.get(0);
        int c = (int) s.get(1);
        int h = spline.h;
        int w = spline.w;
        int hw = h * w;
        NDManager m = img.getManager();
        // The grid's value in float64, rounded to float once (as exact as float allows, so that
        // another implementation of the same spline rounds it the same way: the surrogates
        // amplify last-bit input differences); its derivative in n that of the float graph
        // base + M_inner n, added as (g - g), which is exactly 0 (toType leaves the graph).
        NDArray exact = Autograd.constant(m, spline.inner, new Shape(1, hw, spline.moving))
                .matMul(n.stopGradient().toType(DataType.FLOAT64, false))
                .add(Autograd.constant(m, spline.base, new Shape(1, hw, 2)))
                .toType(DataType.FLOAT32, false);
        NDArray grid = exact; // [R, HW, 2]
        if (n.hasGradient()) {
            NDArray lin = Autograd.constant(m, spline.inner32, new Shape(1, hw, spline.moving)).matMul(n);
            grid = exact.add(lin.sub(lin.stopGradient()));
        }
        NDArray gx = grid.get(new NDIndex(":, :, 0"));
        NDArray gy = grid.get(new NDIndex(":, :, 1"));
        // align_corners=false: pixel ((g + 1) size - 1) / 2, in torch's order of operations.
        NDArray ix = gx.add(1f).mul(Autograd.scalar(m, w)).sub(1f).div(Autograd.scalar(m, 2f));
        NDArray iy = gy.add(1f).mul(Autograd.scalar(m, h)).sub(1f).div(Autograd.scalar(m, 2f));
        NDArray x0 = ix.stopGradient().floor();
        NDArray y0 = iy.stopGradient().floor();
        NDArray fx = ix.sub(x0);
        NDArray fy = iy.sub(y0);
        NDArray[] wx = {fx.neg().add(1f), fx};
        NDArray[] wy = {fy.neg().add(1f), fy};
        NDArray flat = img.reshape(rows, c, hw);
        Shape full = new Shape(rows, c, hw);
        NDArray out = null;
        for (int dy = 0; dy <= 1; dy++) {
            NDArray ys = dy == 0 ? y0 : y0.add(1f);
            NDArray inY = ys.gte(0f).logicalAnd(ys.lte((float) (h - 1)));
            for (int dx = 0; dx <= 1; dx++) {
                NDArray xs = dx == 0 ? x0 : x0.add(1f);
                NDArray in = inY.logicalAnd(xs.gte(0f)).logicalAnd(xs.lte((float) (w - 1)));
                // Indices and masks are computed by libtorch (its own memory), outside the graph.
                NDArray idx = ys.clip(0f, h - 1f).mul(w).add(xs.clip(0f, w - 1f)).toType(DataType.INT64, false)
                        .reshape(rows, 1, hw).broadcast(full);
                NDArray weight = wx[dx].mul(wy[dy]).mul(in.toType(DataType.FLOAT32, false)).reshape(rows, 1, hw);
                NDArray term = flat.gather(idx, 2).mul(weight);
                out = out == null ? term : out.add(term);
            }
        }
        return out.reshape(rows, c, h, w);
    }

    /**
     * The spline's sampling grid as a linear function of the moved control points, for one image
     * size and mesh: {@code G = base + inner n}, rounded to float from double.
     */
    static final class Spline {
        private static final Map<String, Spline> CACHE = new ConcurrentHashMap<>();

        final int h;
        final int w;
        final int moving;
        /** M X: [HW, 2] row-major. */
        final double[] base;
        /** The inner points' columns of M: [HW, moving] row-major. */
        final double[] inner;
        /** {@link #inner} rounded to float: the grid's derivative in the moved points. */
        final float[] inner32;

        private Spline(int h, int w, int moving, double[] base, double[] inner) {
            this.h = h;
            this.w = w;
            this.moving = moving;
            this.base = base;
            this.inner = inner;
            this.inner32 = new float[inner.length];
            for (int i = 0; i < inner.length; i++) {
                inner32[i] = (float) inner[i];
            }
        }

        static Spline of(int h, int w, int mesh) {
            return CACHE.computeIfAbsent(h + "x" + w + "/" + mesh, key -> solve(h, w, mesh));
        }

        /** The mesh's control points, row-major, as (x, y) in [-1, 1]. */
        static double[][] controlPoints(int mesh) {
            double[][] p = new double[mesh * mesh][];
            for (int a = 0; a < mesh; a++) {
                for (int b = 0; b < mesh; b++) {
                    p[a * mesh + b] = new double[] {linspace(b, mesh), linspace(a, mesh)};
                }
            }
            return p;
        }

        /** Element i of {@code linspace(-1, 1, count)}. */
        static double linspace(int i, int count) {
            return count == 1 ? -1.0 : -1.0 + 2.0 * i / (count - 1);
        }

        static double kernel(double dx, double dy) {
            double d2 = dx * dx + dy * dy;
            return d2 * Math.log(d2 + LOG_EPS);
        }

        static Spline solve(int h, int w, int mesh) {
            double[][] ctrl = controlPoints(mesh);
            int k = ctrl.length;
            int size = k + 3;
            double[][] l = new double[size][size];
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < k; j++) {
                    l[i][j] = kernel(ctrl[i][0] - ctrl[j][0], ctrl[i][1] - ctrl[j][1]);
                }
                double[] pi = {1.0, ctrl[i][0], ctrl[i][1]};
                for (int q = 0; q < 3; q++) {
                    l[i][k + q] = pi[q];
                    l[k + q][i] = pi[q];
                }
            }
            // L^-1 [:, :k]: the coefficients [W; A] per unit displacement of each control point.
            double[][] coef = inverseColumns(l, k);
            int[] movingIdx = new int[(mesh - 2) * (mesh - 2)];
            int t = 0;
            for (int a = 1; a < mesh - 1; a++) {
                for (int b = 1; b < mesh - 1; b++) {
                    movingIdx[t++] = a * mesh + b;
                }
            }
            int hw = h * w;
            double[] base = new double[hw * 2];
            double[] inner = new double[hw * movingIdx.length];
            double[] row = new double[size];
            double[] mRow = new double[k];
            for (int u = 0; u < h; u++) {
                for (int v = 0; v < w; v++) {
                    double px = linspace(v, w);
                    double py = linspace(u, h);
                    for (int i = 0; i < k; i++) {
                        row[i] = kernel(px - ctrl[i][0], py - ctrl[i][1]);
                    }
                    row[k] = 1.0;
                    row[k + 1] = px;
                    row[k + 2] = py;
                    for (int i = 0; i < k; i++) {
                        double acc = 0;
                        for (int q = 0; q < size; q++) {
                            acc += row[q] * coef[q][i];
                        }
                        mRow[i] = acc;
                    }
                    int o = u * w + v;
                    double bx = 0;
                    double by = 0;
                    for (int i = 0; i < k; i++) {
                        bx += mRow[i] * ctrl[i][0];
                        by += mRow[i] * ctrl[i][1];
                    }
                    base[o * 2] = bx;
                    base[o * 2 + 1] = by;
                    for (int i = 0; i < movingIdx.length; i++) {
                        inner[o * movingIdx.length + i] = mRow[movingIdx[i]];
                    }
                }
            }
            return new Spline(h, w, movingIdx.length, base, inner);
        }

        /** The first {@code cols} columns of {@code a}'s inverse, by Gauss-Jordan with partial pivoting. */
        static double[][] inverseColumns(double[][] a, int cols) {
            int n = a.length;
            double[][] m = new double[n][n + cols];
            for (int i = 0; i < n; i++) {
                System.arraycopy(a[i], 0, m[i], 0, n);
                if (i < cols) {
                    m[i][n + i] = 1.0;
                }
            }
            for (int c = 0; c < n; c++) {
                int p = c;
                for (int r = c + 1; r < n; r++) {
                    if (Math.abs(m[r][c]) > Math.abs(m[p][c])) {
                        p = r;
                    }
                }
                if (Math.abs(m[p][c]) < 1e-300) {
                    throw new IllegalStateException("thin-plate spline system is singular");
                }
                double[] tmp = m[c];
                m[c] = m[p];
                m[p] = tmp;
                double piv = m[c][c];
                for (int j = c; j < n + cols; j++) {
                    m[c][j] /= piv;
                }
                for (int r = 0; r < n; r++) {
                    if (r != c && m[r][c] != 0) {
                        double f = m[r][c];
                        for (int j = c; j < n + cols; j++) {
                            m[r][j] -= f * m[c][j];
                        }
                    }
                }
            }
            double[][] out = new double[n][cols];
            for (int i = 0; i < n; i++) {
                System.arraycopy(m[i], n, out[i], 0, cols);
            }
            return out;
        }
    }
}
