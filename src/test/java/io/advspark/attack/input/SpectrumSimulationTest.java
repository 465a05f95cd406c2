package io.advspark.attack.input;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.Draws;
import io.advspark.attack.Parts;
import io.advspark.attack.StepContext;
import io.advspark.attack.filter.DctFilter;
import io.advspark.model.Autograd;
import io.advspark.model.TorchRuntime;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The defining properties of SSA's spectrum transformation, on small tensors. */
class SpectrumSimulationTest {
    private static final float EPS01 = 16 / 255f;
    private static NDManager m;

    @BeforeAll
    static void engine() {
        TorchRuntime.start(2);
        m = TorchRuntime.newManager(Device.cpu());
    }

    @AfterAll
    static void close() {
        m.close();
    }

    private static NDArray rand(long seed, long... shape) {
        Random r = new Random(seed);
        float[] a = new float[(int) new Shape(shape).size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextFloat();
        }
        return m.create(a, new Shape(shape));
    }

    private static StepContext ctx(NDArray clean, Draws d) {
        return new StepContext(0, 10, d, clean, EPS01, 1.6f / 255f);
    }

    @Test
    void publishedDefaults() {
        assertEquals(new SpectrumSimulation(20, 0.5, 1.0), Parts.input("ssa"));
        assertEquals("ssa(copies=20,rho=0.5,sigma=1.0)", Parts.input("ssa").spec());
        assertEquals(20, Parts.input("ssa").copies());
    }

    @Test
    void withoutNoiseAndMaskItReturnsTheCopiesUnchanged() {
        NDArray x = rand(1, 2, 3, 8, 6);
        NDArray out = new SpectrumSimulation(3, 0, 0).apply(x, ctx(x, Draws.sequential(2)));
        assertEquals(new Shape(6, 3, 8, 6), out.getShape());
        assertArrayEquals(x.tile(new long[] {3, 1, 1, 1}).toFloatArray(), out.toFloatArray(), 1e-6f);
    }

    @Test
    void drawsFollowTheDocumentedOrderPerImage() {
        SpectrumSimulation t = new SpectrumSimulation(2, 0.5, 0.5);
        int per = 5; // odd: the cached second Gaussian of a pair carries over the mask's draws
        long[] seeds = {11, 12};
        SpectrumSimulation.Sample s = t.draw(ctx(null, new Draws(seeds)), 2, per);
        float std = (float) (0.5 * EPS01);
        float[] noise = new float[4 * per];
        float[] mask = new float[4 * per];
        Random[] g = {new Random(11), new Random(12)};
        for (int k = 0; k < 4; k++) {
            for (int i = 0; i < per; i++) {
                noise[k * per + i] = (float) (g[k % 2].nextGaussian() * std);
            }
            for (int i = 0; i < per; i++) {
                mask[k * per + i] = 0.5f + 1.0f * g[k % 2].nextFloat();
            }
        }
        assertArrayEquals(noise, s.noise(), 0f);
        assertArrayEquals(mask, s.mask(), 0f);
        // Image 1 alone draws what it draws as row 1 of the pair (copy j at row j * rows + r).
        SpectrumSimulation.Sample alone = t.draw(ctx(null, new Draws(new long[] {12})), 1, per);
        for (int j = 0; j < 2; j++) {
            int k = j * 2 + 1;
            assertArrayEquals(Arrays.copyOfRange(s.noise(), k * per, (k + 1) * per),
                    Arrays.copyOfRange(alone.noise(), j * per, (j + 1) * per), 0f);
            assertArrayEquals(Arrays.copyOfRange(s.mask(), k * per, (k + 1) * per),
                    Arrays.copyOfRange(alone.mask(), j * per, (j + 1) * per), 0f);
        }
    }

    @Test
    void transformAndGradientAreTheDctOfTheMaskedSpectrum() {
        // One 1 x 4 x 5 image, two copies: T_j(x) = D4^T (M_j * D4 (x + xi_j) D5^T) D5, and the
        // gradient of sum_j <w_j, T_j(x)> is sum_j D4^T (M_j * D4 w_j D5^T) D5, both in float64.
        int h = 4;
        int w = 5;
        SpectrumSimulation t = new SpectrumSimulation(2, 0.5, 1);
        NDArray x = rand(3, 1, 1, h, w);
        NDArray weights = rand(4, 2, 1, h, w);
        SpectrumSimulation.Sample s = t.draw(ctx(x, Draws.sequential(1)), 1, h * w);
        float[] out = t.apply(x, s).toFloatArray();
        float[] grad = Autograd.gradient(x, leaf -> t.apply(leaf, s).mul(weights).sum()).toFloatArray();
        double[][] dh = DctFilter.matrix(h);
        double[][] dw = DctFilter.matrix(w);
        float[] xv = x.toFloatArray();
        float[] wv = weights.toFloatArray();
        double[] wantGrad = new double[h * w];
        for (int j = 0; j < 2; j++) {
            double[][] in = new double[h][w];
            double[][] wj = new double[h][w];
            double[][] mj = new double[h][w];
            for (int a = 0; a < h; a++) {
                for (int b = 0; b < w; b++) {
                    in[a][b] = xv[a * w + b] + s.noise()[j * h * w + a * w + b];
                    wj[a][b] = wv[j * h * w + a * w + b];
                    mj[a][b] = s.mask()[j * h * w + a * w + b];
                }
            }
            double[][] y = inverse(dh, dw, masked(forward(dh, dw, in), mj));
            double[][] gj = inverse(dh, dw, masked(forward(dh, dw, wj), mj));
            for (int a = 0; a < h; a++) {
                for (int b = 0; b < w; b++) {
                    assertEquals(y[a][b], out[j * h * w + a * w + b], 1e-5, "T copy " + j);
                    wantGrad[a * w + b] += gj[a][b];
                }
            }
        }
        for (int i = 0; i < h * w; i++) {
            assertEquals(wantGrad[i], grad[i], 1e-5, "gradient " + i);
        }
    }

    /** D_H X D_W^T. */
    private static double[][] forward(double[][] dh, double[][] dw, double[][] x) {
        return mul(mul(dh, x), transpose(dw));
    }

    /** D_H^T Y D_W. */
    private static double[][] inverse(double[][] dh, double[][] dw, double[][] y) {
        return mul(mul(transpose(dh), y), dw);
    }

    private static double[][] masked(double[][] y, double[][] mask) {
        double[][] o = new double[y.length][y[0].length];
        for (int a = 0; a < y.length; a++) {
            for (int b = 0; b < y[0].length; b++) {
                o[a][b] = y[a][b] * mask[a][b];
            }
        }
        return o;
    }

    private static double[][] transpose(double[][] a) {
        double[][] o = new double[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                o[j][i] = a[i][j];
            }
        }
        return o;
    }

    private static double[][] mul(double[][] a, double[][] b) {
        double[][] o = new double[a.length][b[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < b[0].length; j++) {
                double s = 0;
                for (int k = 0; k < b.length; k++) {
                    s += a[i][k] * b[k][j];
                }
                o[i][j] = s;
            }
        }
        return o;
    }
}
