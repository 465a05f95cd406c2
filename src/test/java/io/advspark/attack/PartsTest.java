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
import io.advspark.model.Autograd;
import io.advspark.model.TorchRuntime;
import io.advspark.vocabulary.SpecException;
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
    void perlinStartIsGreyscaleWithinBudgetAndPerImage() {
        NDArray clean = rand(9, 2, 3, 24, 24);
        float eps = 16 / 255f;
        long[] seeds = {41, 42};
        io.advspark.attack.init.Initializer init = Parts.init("perlin(period=6, octaves=3, sine=8)");
        NDArray x0 = init.start(ctx(clean, new Draws(seeds)));
        NDArray d = x0.sub(clean);
        assertEquals(clean.getShape(), x0.getShape());
        assertTrue(d.abs().max().getFloat() <= eps * (1 + 1e-6f), "inside the budget");
        assertTrue(d.abs().max().getFloat() >= 0.95f * eps, "the sine map spans the budget: " + d.abs().max().getFloat());
        // One pattern for all channels (up to the rounding of x + delta - x).
        assertArrayEquals(d.get(":, 0").toFloatArray(), d.get(":, 1").toFloatArray(), 1e-7f);
        assertArrayEquals(d.get(":, 0").toFloatArray(), d.get(":, 2").toFloatArray(), 1e-7f);
        // Deterministic, per image: image 1 alone with its seed equals its row in the batch.
        assertArrayEquals(x0.toFloatArray(), init.start(ctx(clean, new Draws(seeds))).toFloatArray(), 0f);
        NDArray alone = init.start(ctx(clean.get("1:2"), new Draws(new long[] {42})));
        assertArrayEquals(row(x0, 1), alone.get(0).toFloatArray(), 0f);
        assertNotEquals(0f, x0.get(0).sub(clean.get(0)).sub(x0.get(1).sub(clean.get(1))).abs().max().getFloat(),
                "another seed, another pattern");
        // Spatially smooth, unlike white noise: the mean step between neighbours is a fraction of
        // that of the same values shuffled (0.34 of it here).
        io.advspark.attack.init.PerlinInit smooth = (io.advspark.attack.init.PerlinInit) Parts.init("perlin(period=12, octaves=2, sine=1)");
        double[] pat = smooth.pattern(new Random(3), 48, 48);
        double[] shuffled = pat.clone();
        Random sh = new Random(4);
        for (int i = shuffled.length - 1; i > 0; i--) {
            int j = sh.nextInt(i + 1);
            double tmp = shuffled[i];
            shuffled[i] = shuffled[j];
            shuffled[j] = tmp;
        }
        assertTrue(meanStep(pat, 48) < 0.5 * meanStep(shuffled, 48), meanStep(pat, 48) + " vs " + meanStep(shuffled, 48));
        // map=sign puts every pixel at +-amplitude*eps (or 0); amplitude scales the budget.
        NDArray sg = Parts.init("perlin(period=6, sine=8, amplitude=0.5, map=sign)").start(ctx(clean, new Draws(seeds)))
                .sub(clean).abs();
        for (float v : sg.toFloatArray()) {
            assertTrue(v < 1e-6f || Math.abs(v - 0.5f * eps) < 1e-6f, "sign map value " + v);
        }
        // The permutation is drawn from the image's stream before any step's draws: 255 nextInt.
        Draws dr = new Draws(new long[] {7});
        init.start(ctx(clean.get("0:1"), dr));
        Random ref = new Random(7);
        for (int i = 255; i > 0; i--) {
            ref.nextInt(i + 1);
        }
        assertEquals(ref.nextLong(), dr.rng(0).nextLong());
    }

    private static double meanStep(double[] a, int w) {
        double sum = 0;
        int count = 0;
        for (int r = 0; r < a.length / w; r++) {
            for (int c = 0; c + 1 < w; c++) {
                sum += Math.abs(a[r * w + c + 1] - a[r * w + c]);
                count++;
            }
        }
        return sum / count;
    }

    @Test
    void targetStartBlendsTowardTheGuideAndNeedsOne() {
        NDArray clean = rand(10, 2, 3, 8, 8);
        NDArray guide = rand(11, 2, 3, 8, 8);
        io.advspark.attack.init.Initializer init = Parts.init("target(alpha=0.25)");
        assertTrue(init.needsGuides());
        assertTrue(!Parts.init("zeros").needsGuides() && !Parts.init("perlin").needsGuides());
        StepContext c = new StepContext(-1, 10, Draws.sequential(2), clean, 16 / 255f, 1.6f / 255f, guide);
        NDArray want = clean.add(guide.sub(clean).mul(0.25f));
        assertArrayEquals(want.toFloatArray(), init.start(c).toFloatArray(), 0f);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> init.start(ctx(clean, Draws.sequential(2))));
        assertTrue(e.getMessage().contains("target(alpha=0.25)") && e.getMessage().contains("guide"), e.getMessage());
        StepContext wrong = new StepContext(-1, 10, Draws.sequential(2), clean, 16 / 255f, 1.6f / 255f, guide.get("0:1"));
        assertThrows(IllegalArgumentException.class, () -> init.start(wrong));
    }

    @Test
    void poTripIsItsDefinitionAndPullsTowardTheTarget() {
        float[] z = {2.0f, -1.0f, 0.5f, 3.0f, -0.2f, /* row 2 */ 0.1f, 4.0f, -2.0f, 0.3f, 1.0f};
        int[] y = {3, 1};
        int[] t = {2, 4};
        double lambda = 0.5;
        double gamma = 0.3;
        double want = 0;
        for (int i = 0; i < 2; i++) {
            double l1 = 0;
            double l2 = 0;
            for (int j = 0; j < 5; j++) {
                l1 += Math.abs(z[i * 5 + j]);
                l2 += z[i * 5 + j] * z[i * 5 + j];
            }
            // v_t = 1 - xi and 1 - ||v||^2 (about 2e-5) in float32, as the loss computes them: the
            // latter's rounding moves theta by about 1e-3 relative.
            float vtf = 1f - 1e-5f;
            double vt = vtf;
            double oneMinusVv = 1f - vtf * vtf;
            double uu = 0;
            double diff = 0;
            for (int j = 0; j < 5; j++) {
                double u = z[i * 5 + j] / l1;
                double v = j == t[i] ? vt : 0;
                uu += u * u;
                diff += (u - v) * (u - v);
            }
            double theta = 2 * diff / ((1 - uu) * oneMinusVv);
            double po = Math.log(1 + theta + Math.sqrt((1 + theta) * (1 + theta) - 1)); // acosh(1 + theta)
            double cosT = Math.abs(z[i * 5 + t[i]]) / Math.sqrt(l2);
            double cosY = Math.abs(z[i * 5 + y[i]]) / Math.sqrt(l2);
            double trip = Math.max((1 - cosT) - (1 - cosY) + gamma, 0);
            want -= po + lambda * trip;
        }
        io.advspark.attack.loss.Loss loss = Parts.loss("potrip(lambda=0.5, margin=0.3)");
        NDArray logits = m.create(z, new Shape(2, 5));
        assertEquals(want, loss.of(logits, y, t).getFloat(), Math.abs(want) * 1e-5);
        // Ascending it raises the target logit and lowers the true one.
        NDArray g = Autograd.gradient(logits, leaf -> loss.of(leaf, y, t));
        float[] gv = g.toFloatArray();
        for (int i = 0; i < 2; i++) {
            assertTrue(gv[i * 5 + t[i]] > 0, "target logit up, row " + i + ": " + Arrays.toString(gv));
        }
        assertTrue(gv[3] < 0, "true logit down: " + Arrays.toString(gv));
        // The loss is per image: row 1 alone gives row 1's gradient.
        NDArray g1 = Autograd.gradient(logits.get("1:2"), leaf -> loss.of(leaf, new int[] {1}, new int[] {4}));
        assertArrayEquals(Arrays.copyOfRange(gv, 5, 10), g1.toFloatArray(), 1e-6f);
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
        // The published defaults, and bad parameters named with the spec.
        assertEquals("perlin(period=60.0,octaves=4,sine=36.0,amplitude=1.0,map=sine)", Parts.init("perlin").spec());
        assertEquals("target(alpha=1.0)", Parts.init("target").spec());
        assertEquals("potrip(lambda=0.01,margin=0.007)", Parts.loss("potrip").spec());
        for (String[] bad : new String[][] {
            {"init", "perlin(octaves=0)", "'octaves' must be in 1..8"},
            {"init", "perlin(period=0)", "'period'"},
            {"init", "perlin(amplitude=1.5)", "'amplitude'"},
            {"init", "perlin(map=cosine)", "'map' must be one of sine, sign"},
            {"init", "perlin(freq=3)", "unknown parameter 'freq'"},
            {"init", "target(alpha=2)", "'alpha' must be in [0.0, 1.0]"},
            {"init", "target(beta=0.5)", "unknown parameter 'beta'"},
            {"loss", "potrip(lambda=-1)", "'lambda'"},
            {"loss", "potrip(margin=3)", "'margin'"},
            {"loss", "potrip(gamma=0.007)", "unknown parameter 'gamma'"},
        }) {
            SpecException e = assertThrows(SpecException.class, () -> {
                if (bad[0].equals("init")) {
                    Parts.init(bad[1]);
                } else {
                    Parts.loss(bad[1]);
                }
            });
            assertTrue(e.getMessage().contains("'" + bad[1] + "'") && e.getMessage().contains(bad[2]), e.getMessage());
        }
    }
}
