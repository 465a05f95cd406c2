package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.StepContext;
import io.advspark.attack.filter.DctFilter;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.Arrays;
import java.util.Random;

/**
 * SSA, the spectrum simulation attack's spectrum transformation (Long, Zhang, Zeng, Gao, Liu,
 * Zhang and Song, "Frequency Domain Model Augmentation for Adversarial Attack", ECCV 2022): each
 * of {@code copies} copies of an image is
 *
 * <pre>
 *   T(x) = IDCT(DCT(x + xi) * M),   xi ~ N(0, (sigma eps)^2),   M ~ U(1 - rho, 1 + rho)
 * </pre>
 *
 * elementwise over [C, H, W], with DCT the orthonormal 2-D DCT-II of each channel's whole H x W
 * plane, {@code DCT(X) = D_H X D_W^T} ({@link DctFilter#matrix}), and IDCT its transpose. The
 * gradient reaches the iterate through the transform: a copy's Jacobian is
 * {@code D^T diag(M) D} (the noise is additive), whose mean over masks is the identity. Copy j of
 * row r is at row {@code j * rows + r}; the engine averages the loss over the copies (the paper's
 * average of the N gradients), in one forward pass.
 *
 * <p>Numerics: the value is computed in float64 (noise added, both DCTs, the mask) and rounded to
 * float32 once; the gradient is taken through the same linear map in float32, carried by
 * {@code lin - stopGradient(lin)}, which is exactly zero (DJL's type conversion records no
 * gradient). Why: in float32 the four matrix products per plane (DC coefficients near 16 on a
 * 32 x 32 image, larger on bigger ones) leave rounding errors that depend on the BLAS kernel, and
 * the surrogates' input gradient is sensitive enough to them (ReLUs flipping) that two float32
 * implementations, libtorch 2.7.1 and torch 1.13 on the reference BLAS, differed by up to 4e-3
 * relative L2 in the gradient on CIFAR, as did float32 against float64 in torch alone. In float64
 * both give the same float32 model input bar rare rounding ties. The extra cost is small next to
 * the surrogates' forward and backward.
 *
 * <p>Draws, per output row k = j * rows + r in increasing k, from {@code ctx.draws().rng(k)}
 * (image k mod N's stream): first the C*H*W noise values of the copy, row-major over [C, H, W],
 * each {@code (float) (nextGaussian() * std)} with {@code std = (float) (sigma * eps01)}; then
 * its C*H*W mask values, {@code lo + (hi - lo) * nextFloat()} in float32 with
 * {@code lo = (float) (1 - rho)}, {@code hi = (float) (1 + rho)}. So all of copy 0's draws come
 * before copy 1's, and an image's draws do not depend on its batch-mates. {@code nextGaussian}
 * is java.util.Random's polar method, whose second value of a pair is kept for the next call
 * (also across the mask's draws when C*H*W is odd).
 *
 * <p>Published settings (the authors' code {@code yuyang-long/SSA attack.py}: {@code --N 20},
 * {@code --rho 0.5}, {@code --sigma 16} at {@code --max_epsilon 16}; TransferAttack's SSM:
 * {@code num_spectrum=20, rho=0.5}, noise std {@code epsilon}): copies 20, rho 0.5, sigma 1 (in
 * units of eps, so the noise follows the budget as in TransferAttack; the authors' code fixes
 * 16/255 whatever the budget). Spec {@code ssa(copies=20, rho=0.5, sigma=1)}.
 *
 * <p>Where we depart from the authors' code and TransferAttack, and why:
 * <ul>
 *   <li>Both take the gradient at the transformed image {@code T(x)} (a detached leaf in the
 *       authors' code, {@code grad(loss, x_idct)} in TransferAttack), i.e. a straight-through
 *       gradient. We differentiate through {@code T}, as every other input transform here does,
 *       so SSA composes with the others in order (a DI after SSA, SI scales, ...).</li>
 *   <li>Their {@code dct_2d} is the unnormalised DCT-II ({@code norm=None}). It differs from the
 *       orthonormal one by a scale per coefficient, which commutes with the elementwise mask and
 *       cancels in the inverse, so {@code T} is the same transform.</li>
 *   <li>They loop the N copies through the model one at a time and sum the gradients; we build
 *       them {@value #CHUNK} at a time ({@link #copiesPerChunk()}) and stack a chunk's on the batch
 *       axis (one forward of {@code 5 * rows} rows under the row cap), the chunks' gradients
 *       summed in order.</li>
 *   <li>TransferAttack draws the noise at a hard-coded 3 x 224 x 224; we use the image's shape.</li>
 * </ul>
 * Like both, the result is not clipped to [0, 1] (clipping would zero the gradient where it
 * binds), and the transform is applied to what the engine hands the input transforms: the image
 * of the gradient point (NI's look-ahead point, a filter's image), tiled by the attack's
 * {@code copies}.
 */
public record SpectrumSimulation(int copies, double rho, double sigma) implements InputTransform {
    public static final Entry<SpectrumSimulation> DECLARATION = Entry.of(Kind.INPUT, "ssa", SpectrumSimulation.class)
            .summary("Spectrum simulation: copies IDCT(DCT(x + xi) * M), Gaussian xi, mask M ~ U(1 - rho, 1 + rho) on the whole-image DCT")
            .paper("Long et al., \"Frequency Domain Model Augmentation for Adversarial Attack\", ECCV 2022")
            .param(Param.integer("copies", 20, 1, 64,
                    "spectrum transformations per step (the paper's N)"))
            .param(Param.dbl("rho", 0.5, 0, 1,
                    "mask range: each DCT coefficient scaled by U(1 - rho, 1 + rho)"))
            .param(Param.dbl("sigma", 1.0, 0, 10,
                    "standard deviation of the Gaussian noise, in units of eps"))
            .randomised()
            .build(s -> new SpectrumSimulation(s.integer("copies"), s.dbl("rho"), s.dbl("sigma")));

    /** One step's draws: noise and mask, [copies * rows, C, H, W] each, row-major. */
    public record Sample(float[] noise, float[] mask) {}

    /** Draws the noise and masks of {@code copies * rows} output rows in the documented order. */
    public Sample draw(StepContext ctx, int rows, int perRow) {
        int out = copies * rows;
        float[] noise = new float[out * perRow];
        float[] mask = new float[out * perRow];
        float std = (float) (sigma * ctx.eps01());
        float lo = (float) (1 - rho);
        float hi = (float) (1 + rho);
        for (int k = 0; k < out; k++) {
            // Output row k = j * rows + r; rows is a multiple of the batch, so k's stream is r's image.
            Random g = ctx.draws().rng(k);
            int base = k * perRow;
            for (int i = 0; i < perRow; i++) {
                noise[base + i] = (float) (g.nextGaussian() * std);
            }
            for (int i = 0; i < perRow; i++) {
                mask[base + i] = lo + (hi - lo) * g.nextFloat();
            }
        }
        return new Sample(noise, mask);
    }

    @Override
    public NDArray apply(NDArray x, StepContext ctx) {
        return draw(x, ctx).render(x, 0, copies);
    }

    @Override
    public Chunks draw(NDArray x, StepContext ctx) {
        Shape s = x.getShape();
        int rows = (int) s.get(0);
        Sample d = draw(ctx, rows, (int) (s.size() / rows));
        return (in, from, to) -> render(in, d, from, to);
    }

    /**
     * {@value #CHUNK} copies at a time: the float64 value path keeps some 35 row-sized arrays per
     * copy until the backward (measured with {@code jobs/bench --parts}: a peak of 9547 MiB for 20
     * copies of ten 299 x 299 images built at once, 5271 MiB five at a time, docs/memory.md).
     */
    @Override
    public int copiesPerChunk() {
        return Math.min(copies, CHUNK);
    }

    /** Copies built at once (see {@link #copiesPerChunk()}). */
    static final int CHUNK = 5;

    /**
     * Row-sized arrays per copy of a chunk, the copy included, for the memory estimate: from the
     * 5271 MiB peak of {@link #copiesPerChunk()} (docs/memory.md's formula). Built five at a time
     * the peak did not fall four-fold, so per copy of a chunk the figure is about twice that of
     * an all-at-once build (36): the float64 products' workspace does not shrink with the chunk.
     */
    @Override
    public double graphRowsPerOutputRow() {
        return 74;
    }

    /** The transform with the given draws; differentiable in {@code x}. */
    public NDArray apply(NDArray x, Sample d) {
        return render(x, d, 0, copies);
    }

    /** Copies {@code from .. to-1} with the given draws (copy j of row r at row {@code (j - from) x rows + r}). */
    private NDArray render(NDArray x, Sample d, int from, int to) {
        Shape s = x.getShape();
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        int n = to - from;
        long per = s.size();
        NDManager m = x.getManager();
        Shape out = new Shape(n * s.get(0), s.get(1), h, w);
        float[] maskValues = n == copies ? d.mask() : Arrays.copyOfRange(d.mask(), (int) (from * per), (int) (to * per));
        float[] noiseValues = n == copies ? d.noise() : Arrays.copyOfRange(d.noise(), (int) (from * per), (int) (to * per));
        // Every intermediate lives in x's manager (the step's scratch, or the engine's chunk scope).
        NDArray mask = m.create(maskValues, out);
        // The value, in float64 and rounded to float32 once (see the class comment). DJL's type
        // conversion records no gradient, so this path is a constant...
        NDArray x64 = tile(x.stopGradient(), n).toType(DataType.FLOAT64, false)
                .add(m.create(noiseValues, out).toType(DataType.FLOAT64, false));
        NDArray value = spectral(x64, mask.toType(DataType.FLOAT64, false), DataType.FLOAT64)
                .toType(DataType.FLOAT32, false);
        // ...and the gradient flows through the same linear map in float32 (the noise is additive):
        // lin - stopGradient(lin) is exactly zero, so the value stays the float64 one.
        NDArray lin = spectral(tile(x, n), mask, DataType.FLOAT32);
        return value.add(lin.sub(lin.stopGradient()));
    }

    private static NDArray tile(NDArray x, int n) {
        return n == 1 ? x : x.tile(new long[] {n, 1, 1, 1});
    }

    /** {@code D_H^T (mask * (D_H x D_W^T)) D_W} with the DCT matrices in {@code type}. */
    private static NDArray spectral(NDArray x, NDArray mask, DataType type) {
        NDManager m = x.getManager();
        int h = (int) x.getShape().get(2);
        int w = (int) x.getShape().get(3);
        NDArray dh = dct(m, h).toType(type, false);
        NDArray dw = h == w ? dh : dct(m, w).toType(type, false);
        return dh.transpose().matMul(dh.matMul(x).matMul(dw.transpose()).mul(mask)).matMul(dw);
    }

    /** The orthonormal n-point DCT-II matrix, float64. */
    private static NDArray dct(NDManager m, int n) {
        double[][] d = DctFilter.matrix(n);
        double[] f = new double[n * n];
        for (int u = 0; u < n; u++) {
            System.arraycopy(d[u], 0, f, u * n, n);
        }
        return m.create(f, new Shape(n, n));
    }
}
