package io.advspark.attack.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.advspark.model.Autograd;
import org.junit.jupiter.api.Test;

/**
 * The cross-entropy's gradient against float64 arithmetic, on rows whose true-class probability
 * rounds to 1 in float32: the textbook {@code p - onehot} gives 0 or a multiple of 2^-24 there
 * (noise that depends on the logits' last bit); ours must be the true, tiny gradient.
 */
class CrossEntropyTest {
    private static final int CLASSES = 10;

    /** Rows: saturated (margin 25 and 60), moderate, misclassified by far (overflow guard). */
    private static final float[][] LOGITS = {
        {30f, 0f, -1f, 5f, 2f, 3f, -4f, 1f, 0.5f, 4f},
        {70f, 10f, 9f, 8f, 7f, 6f, 5f, 4f, 3f, 2f},
        {1f, 0.5f, -0.3f, 2f, 0f, 0f, 0.1f, -2f, 1.5f, 0.7f},
        {-80f, 40f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f},
    };

    @Test
    void gradientIsAccurateWhenTheTrueClassSaturates() {
        int[] y = {0, 0, 3, 0};
        int[] t = {3, 1, 8, 1};
        check(new CrossEntropy(1, 0), y, t);
        check(new CrossEntropy(0, 1), y, t);
        check(new CrossEntropy(-1, 4), y, t);
    }

    private static void check(CrossEntropy ce, int[] y, int[] t) {
        int n = LOGITS.length;
        float[] flat = new float[n * CLASSES];
        for (int i = 0; i < n; i++) {
            System.arraycopy(LOGITS[i], 0, flat, i * CLASSES, CLASSES);
        }
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray z = m.create(flat, new Shape(n, CLASSES));
            float[] loss = new float[1];
            float[] grad = Autograd.gradient(z, leaf -> {
                NDArray l = ce.of(leaf, y, t);
                loss[0] = l.getFloat();
                return l;
            }).toFloatArray();
            double lossTrue = 0;
            for (int i = 0; i < n; i++) {
                double[] p = softmax(LOGITS[i]);
                lossTrue += ce.untargetedWeight() * crossEntropy(LOGITS[i], y[i]) - ce.targetedWeight() * crossEntropy(LOGITS[i], t[i]);
                double err = 0;
                double norm = 0;
                for (int j = 0; j < CLASSES; j++) {
                    double g = ce.untargetedWeight() * ceGradient(p, y[i], j) - ce.targetedWeight() * ceGradient(p, t[i], j);
                    err += Math.pow(grad[i * CLASSES + j] - g, 2);
                    norm += g * g;
                }
                double rel = Math.sqrt(err / norm);
                assertTrue(rel < 1e-5, ce.spec() + " row " + i + ": gradient relative L2 error " + rel);
            }
            assertEquals(lossTrue, loss[0], 1e-5 * Math.max(1, Math.abs(lossTrue)), ce.spec() + " loss");
            // Each row's value too, relative to itself: tiny on saturated rows (1e-9 at a margin of
            // 25, 1e-26 at 60), where log of 1 + S would give 0.
            try (NDManager r = NDManager.newBaseManager()) {
                for (int i = 0; i < n; i++) {
                    int[] cls = {ce.untargetedWeight() != 0 ? y[i] : t[i]};
                    float v = CrossEntropy.perRow(r.create(LOGITS[i], new Shape(1, CLASSES)), cls).getFloat();
                    double want = crossEntropy(LOGITS[i], cls[0]);
                    assertEquals(want, v, 1e-6 * Math.abs(want) + 1e-30, ce.spec() + " row " + i + " value");
                }
            }
        }
    }

    /**
     * d CE(z, c) / d z_j = p_j - [j == c], with p_c - 1 as minus the sum of the other classes'
     * probabilities: even float64 rounds p_c to 1 at a margin of 60.
     */
    private static double ceGradient(double[] p, int c, int j) {
        if (j != c) {
            return p[j];
        }
        double others = 0;
        for (int k = 0; k < p.length; k++) {
            others += k == c ? 0 : p[k];
        }
        return -others;
    }

    /** -log softmax(z)_c in float64, as log1p(sum_{j != c} exp(z_j - z_c)) (no rounding of p_c to 1). */
    private static double crossEntropy(float[] z, int c) {
        double s = 0;
        for (int j = 0; j < z.length; j++) {
            s += j == c ? 0 : Math.exp((double) z[j] - z[c]);
        }
        return Math.log1p(s);
    }

    /** Softmax in float64, exactly as the definition, with the max shift. */
    private static double[] softmax(float[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : z) {
            max = Math.max(max, v);
        }
        double[] p = new double[z.length];
        double sum = 0;
        for (int j = 0; j < z.length; j++) {
            p[j] = Math.exp(z[j] - max);
            sum += p[j];
        }
        for (int j = 0; j < z.length; j++) {
            p[j] /= sum;
        }
        return p;
    }
}
