package io.advspark.attack.filter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.StepContext;
import java.util.Locale;

/**
 * DCT low-pass of the perturbation (Guo, Frank and Weinberger, "Low Frequency Adversarial
 * Perturbation", UAI 2019; Sharma et al., IJCAI 2019): per channel, the orthonormal 2-D DCT-II
 * of delta is kept on the lowest-frequency {@code kh x kw} block, {@code kh = round(sqrt(keep) H)}
 * (so about {@code keep} of the coefficients), and inverted. Because the mask is separable this is
 * {@code P_H delta P_W^T} with {@code P = D^T diag(mask) D}, two matrix multiplications. Default
 * keep 0.25 (the lowest quarter: half the frequencies on each axis). Spec {@code dct(keep=0.25)}.
 */
public record DctFilter(double keep) implements PerturbationFilter {
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
        double[][] d = new double[n][n];
        for (int u = 0; u < n; u++) {
            double a = u == 0 ? Math.sqrt(1.0 / n) : Math.sqrt(2.0 / n);
            for (int x = 0; x < n; x++) {
                d[u][x] = a * Math.cos(Math.PI * (2 * x + 1) * u / (2.0 * n));
            }
        }
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

    @Override
    public String spec() {
        return String.format(Locale.ROOT, "dct(keep=%s)", keep);
    }
}
