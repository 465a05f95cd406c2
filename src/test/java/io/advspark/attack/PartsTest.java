package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.filter.DctFilter;
import io.advspark.attack.filter.GaussianFilter;
import io.advspark.attack.gradient.L1Normalize;
import io.advspark.attack.gradient.TranslationInvariant;
import io.advspark.attack.input.Admix;
import io.advspark.attack.input.DiverseInput;
import io.advspark.attack.input.InputTransform;
import io.advspark.attack.input.Jpeg;
import io.advspark.attack.input.ScaleInvariant;
import io.advspark.attack.spec.SpecException;
import io.advspark.model.Autograd;
import io.advspark.model.TorchRuntime;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The defining property of each input, gradient and filter part, on small tensors. */
class PartsTest {
    private static NDManager m;

    @BeforeAll
    static void engine() {
        TorchRuntime.start(2);
        m = NDManager.newBaseManager(Device.cpu(), "PyTorch");
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
        return new StepContext(0, 10, d, clean, 16 / 255f, 1.6f / 255f);
    }

    private static float[] row(NDArray x, int r) {
        return x.get(r).toFloatArray();
    }

    @Test
    void tiOfADeltaGradientIsTheKernel() {
        for (String k : new String[] {"gaussian", "uniform", "linear"}) {
            TranslationInvariant ti = (TranslationInvariant) Parts.gradient("ti(kernel=" + k + ")");
            assertEquals(15, ti.size());
            float[] kern = ti.weights();
            double sum = 0;
            for (float v : kern) {
                sum += v;
            }
            assertEquals(1.0, sum, 1e-5, k);
            float[] g = new float[3 * 21 * 21];
            g[21 * 21 + 10 * 21 + 10] = 1; // channel 1, centre
            NDArray out = ti.apply(m.create(g, new Shape(1, 3, 21, 21)), null);
            float[] o = out.toFloatArray();
            for (int y = 0; y < 15; y++) {
                for (int x = 0; x < 15; x++) {
                    assertEquals(kern[y * 15 + x], o[21 * 21 + (y + 3) * 21 + (x + 3)], 1e-7, k);
                }
            }
            assertEquals(0, out.get("0, 0").abs().sum().getFloat(), 0, "other channels untouched");
            assertEquals(0, out.get("0, 2").abs().sum().getFloat(), 0, "other channels untouched");
        }
        // The published kernel: gkern(15, 3) peaks at the centre, pixel std (15-1)/6.
        float[] gk = Kernels.gkern(15, 3);
        assertEquals(Math.exp(-0.5 * Math.pow(3.0 / 7, 2)), gk[7 * 15 + 8] / gk[7 * 15 + 7], 1e-6);
    }

    @Test
    void l1MakesMeanAbsOnePerImage() {
        NDArray g = rand(1, 2, 3, 4, 4).sub(0.5f);
        g = g.mul(m.create(new float[] {3f, 0.01f}, new Shape(2, 1, 1, 1)));
        NDArray n = Parts.gradient("l1").apply(g, null);
        for (int i = 0; i < 2; i++) {
            assertEquals(1.0, n.get(i).abs().mean().getFloat(), 1e-5);
        }
        assertTrue(new L1Normalize().apply(m.zeros(new Shape(1, 3, 2, 2)), null).isInfinite().any().getBoolean() == false);
    }

    @Test
    void siStacksScaledCopies() {
        NDArray x = rand(2, 3, 3, 4, 4);
        InputTransform si = Parts.input("si");
        assertEquals(5, si.copies());
        NDArray out = si.apply(x, null);
        assertEquals(new Shape(15, 3, 4, 4), out.getShape());
        for (int i = 0; i < 5; i++) {
            for (int r = 0; r < 3; r++) {
                assertArrayEquals(x.get(r).div((float) Math.pow(2, i)).toFloatArray(), row(out, i * 3 + r), 0f);
            }
        }
    }

    @Test
    void diKeepsShapeIsDeterministicAndIndependentOfBatchMates() {
        DiverseInput di = (DiverseInput) Parts.input("di(p=1.0)");
        NDArray x = rand(3, 3, 3, 32, 32);
        long[] seeds = {11, 22, 33};
        NDArray a = di.apply(x, ctx(x, new Draws(seeds)));
        NDArray b = di.apply(x, ctx(x, new Draws(seeds)));
        assertEquals(x.getShape(), a.getShape());
        assertArrayEquals(a.toFloatArray(), b.toFloatArray(), 0f);
        assertNotEquals(0f, a.sub(x).abs().max().getFloat(), "p=1 transforms every image");
        // Image 1 alone, with its own seed, gives the same result as within the batch.
        NDArray x1 = x.get("1:2");
        NDArray alone = di.apply(x1, ctx(x1, new Draws(new long[] {22})));
        assertArrayEquals(row(a, 1), alone.get(0).toFloatArray(), 0f);
        // p = 0 is the identity.
        NDArray id = new DiverseInput(0, 1.1).apply(x, ctx(x, new Draws(seeds)));
        assertArrayEquals(x.toFloatArray(), id.toFloatArray(), 0f);
        // Plans stay in range: rnd in [32, 35), offsets in [0, 35 - rnd).
        for (DiverseInput.Plan p : di.plan(ctx(x, Draws.sequential(200)), 200, 32)) {
            assertTrue(p.rnd() >= 32 && p.rnd() < 35 && p.top() >= 0 && p.top() < 35 - p.rnd()
                    && p.left() >= 0 && p.left() < 35 - p.rnd(), p.toString());
        }
    }

    @Test
    void admixMixesWithOtherCleanImagesAtSiScales() {
        NDArray clean = rand(4, 3, 3, 4, 4);
        NDArray x = clean.add(0.01f);
        Admix ad = (Admix) Parts.input("admix");
        assertEquals(15, ad.copies());
        int[][] partners = ad.partners(ctx(clean, Draws.sequential(3)), 3, 3);
        NDArray out = ad.apply(x, ctx(clean, Draws.sequential(3)));
        assertEquals(new Shape(45, 3, 4, 4), out.getShape());
        for (int r = 0; r < 3; r++) {
            for (int j = 0; j < 3; j++) {
                assertNotEquals(r, partners[r][j], "mixes with another image");
                for (int i = 0; i < 5; i++) {
                    NDArray want = x.get(r).add(clean.get(partners[r][j]).mul(0.2f)).div((float) Math.pow(2, i));
                    assertArrayEquals(want.toFloatArray(), row(out, (i * 3 + j) * 3 + r), 1e-6f);
                }
            }
        }
        // The gradient reaches x only (clean partners are constants): d sum / dx = sum of scales * mixes.
        NDArray g = Autograd.gradient(x, leaf -> ad.apply(leaf, ctx(clean, Draws.sequential(3))).sum());
        float want = 3 * (1 + 0.5f + 0.25f + 0.125f + 0.0625f);
        for (float v : g.toFloatArray()) {
            assertEquals(want, v, 1e-6);
        }
    }

    @Test
    void simpleRandomTransformsAreDeterministicAndKeepShape() {
        NDArray x = rand(5, 2, 3, 16, 16);
        for (String spec : new String[] {"translate(max=0.2)", "rotate(degrees=30)", "flip(p=0.5)", "noise(std=0.1)",
                "brightness(m=4)", "jpeg"}) {
            InputTransform t = Parts.input(spec);
            NDArray a = t.apply(x, ctx(x, new Draws(new long[] {5, 6})));
            NDArray b = t.apply(x, ctx(x, new Draws(new long[] {5, 6})));
            assertEquals(x.getShape(), a.getShape(), spec);
            assertArrayEquals(a.toFloatArray(), b.toFloatArray(), 0f, spec);
            NDArray one = t.apply(x.get("1:2"), ctx(x.get("1:2"), new Draws(new long[] {6})));
            assertArrayEquals(row(a, 1), one.get(0).toFloatArray(), 0f, spec + " per-image draws");
        }
        // Rotation by 0 is the identity; flip(p=1) mirrors; brightness(m=1) is the identity.
        assertArrayEquals(x.toFloatArray(), Parts.input("rotate(degrees=0)").apply(x, ctx(x, Draws.sequential(2))).toFloatArray(), 1e-6f);
        assertArrayEquals(x.flip(3).toFloatArray(), Parts.input("flip(p=1)").apply(x, ctx(x, Draws.sequential(2))).toFloatArray(), 0f);
        assertArrayEquals(x.toFloatArray(), Parts.input("brightness(m=1)").apply(x, ctx(x, Draws.sequential(2))).toFloatArray(), 0f);
        // Translation moves content: with max 0.25 on 16 px a shifted image differs but keeps its values.
        NDArray tr = Parts.input("translate(max=0.25)").apply(x, ctx(x, Draws.sequential(2)));
        assertTrue(tr.sum().getFloat() <= x.sum().getFloat() + 1e-3);
        // Rotation by 90 degrees on a square image permutes pixels exactly.
        NDArray q = io.advspark.attack.input.Rotate.rotate(x.get("0:1"), Math.PI / 2, 3, 16, 16);
        float[] s1 = q.toFloatArray();
        float[] s2 = x.get("0:1").toFloatArray();
        Arrays.sort(s1);
        Arrays.sort(s2);
        assertArrayEquals(s2, s1, 1e-5f);
    }

    @Test
    void jpegIsTheCodecForwardAndIdentityBackward() {
        NDArray x = rand(6, 2, 3, 16, 16);
        Jpeg j = (Jpeg) Parts.input("jpeg(quality=50)");
        NDArray out = j.apply(x, null);
        float[] want = Jpeg.roundTrip(x.toFloatArray(), 3 * 256, 16, 16, 50);
        assertArrayEquals(want, row(out, 1), 1e-6f);
        assertTrue(out.sub(x).abs().max().getFloat() > 0.05f, "random noise does not survive JPEG 50");
        NDArray w = rand(7, 2, 3, 16, 16);
        NDArray g = Autograd.gradient(x, leaf -> j.apply(leaf, null).mul(w).sum());
        assertArrayEquals(w.toFloatArray(), g.toFloatArray(), 0f);
    }

    @Test
    void filtersRemoveHighFrequencies() {
        // DCT: a high-frequency basis image is removed, a low one kept exactly.
        NDArray hi = dctBasis(15, 12);
        NDArray lo = dctBasis(1, 6);
        DctFilter dct = (DctFilter) Parts.filter("dct");
        assertEquals(0, dct.apply(hi, null).abs().max().getFloat(), 1e-6);
        assertArrayEquals(lo.toFloatArray(), dct.apply(lo, null).toFloatArray(), 1e-6f);
        // A checkerboard is the highest frequency; a constant the lowest.
        float[] cb = new float[3 * 16 * 16];
        for (int i = 0; i < cb.length; i++) {
            int y = (i / 16) % 16;
            int x = i % 16;
            cb[i] = ((x + y) % 2 == 0 ? 1 : -1) * 0.05f;
        }
        NDArray check = m.create(cb, new Shape(1, 3, 16, 16));
        NDArray flat = m.ones(new Shape(1, 3, 16, 16)).mul(0.05f);
        assertTrue(dct.apply(check, null).abs().max().getFloat() < 0.05f * 0.5f);
        assertArrayEquals(flat.toFloatArray(), dct.apply(flat, null).toFloatArray(), 1e-6f);
        // A projection: applying it twice changes nothing, keep=1 is the identity.
        NDArray r = rand(8, 2, 3, 16, 16);
        NDArray once = dct.apply(r, null);
        assertArrayEquals(once.toFloatArray(), dct.apply(once, null).toFloatArray(), 1e-5f);
        assertArrayEquals(r.toFloatArray(), new DctFilter(1).apply(r, null).toFloatArray(), 1e-5f);
        GaussianFilter gf = (GaussianFilter) Parts.filter("gaussian(sigma=1)");
        NDArray inner = gf.apply(check, null).get(":, :, 4:12, 4:12");
        assertTrue(inner.abs().max().getFloat() < 0.05f * 0.01f, "checkerboard suppressed");
        NDArray flatInner = gf.apply(flat, null).get(":, :, 4:12, 4:12");
        assertEquals(0.05f, flatInner.min().getFloat(), 1e-6);
        assertEquals(null, Parts.filter("none"));
    }

    /** The 16x16 orthonormal DCT-II basis image (u, v) on 3 channels. */
    private static NDArray dctBasis(int u, int v) {
        float[] a = new float[3 * 256];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 16; y++) {
                for (int x = 0; x < 16; x++) {
                    a[c * 256 + y * 16 + x] = (float) (Math.cos(Math.PI * (2 * y + 1) * u / 32.0)
                            * Math.cos(Math.PI * (2 * x + 1) * v / 32.0) * 0.05);
                }
            }
        }
        return m.create(a, new Shape(1, 3, 16, 16));
    }

    @Test
    void specsValidate() {
        assertEquals("ti(kernel=gaussian,size=7,sigma=3.0)", Parts.gradient("ti(size=7)").spec());
        assertThrows(SpecException.class, () -> Parts.gradient("ti(kernel=box)"));
        assertThrows(SpecException.class, () -> Parts.input("di(prob=0.5)"));
        assertThrows(SpecException.class, () -> Parts.input("jpeg(quality=101)"));
        assertEquals("admix(strength=0.2,mixes=3,copies=5)", Parts.input("admix").spec());
        assertEquals(new DiverseInput(0.5, 1.1), Parts.input("di"));
        assertEquals(new ScaleInvariant(5), Parts.input("si"));
    }
}
