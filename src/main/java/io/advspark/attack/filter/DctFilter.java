package io.advspark.attack.filter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;

/**
 * DCT low-pass of the perturbation (Guo, Frank and Weinberger, "Low Frequency Adversarial
 * Perturbation", UAI 2019; Sharma, Ding and Brubaker, IJCAI 2019).
 *
 * <p>Definition: per image and channel, the orthonormal 2-D DCT-II of the H x W delta
 * ({@code C = D_H delta D_W^T}, {@code D_n[u][x] = a_u cos(pi (2x + 1) u / (2n))},
 * {@code a_0 = sqrt(1/n)}, {@code a_u = sqrt(2/n)}) is kept on its lowest-frequency
 * {@code kh x kw} block ({@code u < kh}, {@code v < kw}), the rest set to zero, and inverted, with
 * {@code kh = clamp(floor(sqrt(keep) H + 0.5), 1, H)} and likewise {@code kw} with W: about
 * {@code keep} of the coefficients, e.g. 16 x 16 of 32 x 32 for keep 0.25. Guo et al.'s
 * frequency ratio r is per side: their r is {@code sqrt(keep)} here. The whole-image transform,
 * not JPEG's 8 x 8 blocks. Because the mask is separable this is {@code P_H delta P_W^T} with
 * {@code P = D^T diag(mask) D}, an orthogonal projection (symmetric, idempotent), built in
 * float64, rounded to float32 once and applied as two float32 matrix products.
 *
 * <p>The engine applies it once, to a latent perturbation, and differentiates through it
 * ({@link io.advspark.attack.AttackEngine}); see {@link GaussianFilter} for the measured cost in
 * white-box success. Default keep 0.25. Spec {@code dct(keep=0.25)}.
 */
public record DctFilter(double keep) implements PerturbationFilter {
    public static final Entry<DctFilter> DECLARATION = Entry.of(Kind.FILTER, "dct", DctFilter.class)
            .summary("DCT low-pass: keep the lowest-frequency block of the whole-image orthonormal DCT-II of a latent perturbation")
            .paper("Guo, Frank and Weinberger, \"Low Frequency Adversarial Perturbation\", UAI 2019")
            .param(Param.dbl("keep", 0.25, 1e-6, 1,
                    "fraction of the coefficients kept (per side: sqrt(keep))"))
            .build(s -> new DctFilter(s.dbl("keep")));

    @Override
    public NDArray apply(NDArray delta, StepContext ctx) {
        int h = (int) delta.getShape().get(2);
        int w = (int) delta.getShape().get(3);
        NDArray ph = delta.getManager().create(projector(h, keep), new Shape(h, h));
        NDArray pwT = delta.getManager().create(projector(w, keep), new Shape(w, w)).transpose();
        return ph.matMul(delta).matMul(pwT);
    }

    /** {@code D^T diag(mask) D} for the orthonormal n-point DCT-II D, row-major. */
    public static float[] projector(int n, double keep) {
        int k = Math.max(1, Math.min(n, (int) Math.round(Math.sqrt(keep) * n)));
        double[][] d = matrix(n);
        float[] p = new float[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int u = 0; u < k; u++) {
                    s += d[u][i] * d[u][j];
                }
                p[i * n + j] = (float) s;
            }
        }
        return p;
    }

    /**
     * The orthonormal n-point DCT-II matrix in float64: {@code D[u][x] = a_u cos(pi (2x + 1) u / (2n))},
     * {@code a_0 = sqrt(1/n)}, {@code a_u = sqrt(2/n)}, so {@code D D^T = I} and the 2-D transform of
     * an H x W plane is {@code D_H X D_W^T} (shared with the spectrum transform of
     * {@link io.advspark.attack.input.SpectrumSimulation}).
     */
    public static double[][] matrix(int n) {
        double[][] d = new double[n][n];
        for (int u = 0; u < n; u++) {
            double a = u == 0 ? Math.sqrt(1.0 / n) : Math.sqrt(2.0 / n);
            for (int x = 0; x < n; x++) {
                d[u][x] = a * Math.cos(Math.PI * (2 * x + 1) * u / (2.0 * n));
            }
        }
        return d;
    }
}
