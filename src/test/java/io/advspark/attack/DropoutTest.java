package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtSymbolBlock;
import io.advspark.attack.augment.Dropout;
import io.advspark.attack.augment.ModelAugmentation;
import io.advspark.attack.init.ZeroInit;
import io.advspark.attack.loss.CrossEntropy;
import io.advspark.attack.update.Momentum;
import io.advspark.data.ManifestRow;
import io.advspark.data.RgbImage;
import io.advspark.model.Autograd;
import io.advspark.model.Classifier;
import io.advspark.model.Ensemble;
import io.advspark.model.ModelBundle;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.AttackConfig;
import io.advspark.testing.Fixtures;
import io.advspark.testing.Report;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Dropout inside the surrogates ({@code attack.augment = ["dropout(p)"]}) on the repository's own
 * scripted fixture {@code demo/models/ghost_b.pt} (tiny_b re-exported by tools/ghost_model.py with
 * four dropout sites; it has BatchNorm in every block) next to the traced {@code tiny_a}.
 */
class DropoutTest {
    private static final Path GHOST = Path.of("demo/models/ghost_b.pt");
    private static final Path TRACED = Path.of("demo/models/tiny_a.pt");
    private static final Path DATA = Path.of("demo/data");
    private static NDManager m;
    private static List<ManifestRow> rows;
    private static List<RgbImage> imgs;

    @BeforeAll
    static void setUp() throws Exception {
        TorchRuntime.start(2);
        m = TorchRuntime.newManager(Device.cpu());
        rows = Fixtures.manifest(DATA, 0, 4);
        imgs = Fixtures.images(DATA, rows);
    }

    @AfterAll
    static void tearDown() {
        m.close();
    }

    private static ModelBundle bundle(Path p, boolean augment) throws Exception {
        ModelBundle b = Fixtures.bundle(p, 1.0);
        return new ModelBundle(b.uri(), b.card(), b.torchScript(), b.weight(), augment);
    }

    private static Attack attack(double stepPixels, int steps, String update, List<ModelAugmentation> augments) {
        return attack(stepPixels, steps, update, augments, EnsembleMode.LOGITS);
    }

    private static Attack attack(double stepPixels, int steps, String update, List<ModelAugmentation> augments,
            EnsembleMode mode) {
        return new Attack(8, stepPixels, steps, new ZeroInit(), List.of(), new CrossEntropy(1, 0), List.of(),
                update.equals("mi") ? new Momentum(1.0, false, 0, 0) : Parts.update(update), null, 1, mode, augments);
    }

    private static int[] labels() {
        return rows.stream().mapToInt(ManifestRow::trueLabel).toArray();
    }

    private static int[] targets() {
        return rows.stream().mapToInt(ManifestRow::targetLabel).toArray();
    }

    @Test
    void sitesComeFromTheScriptedModelAndTracedModelsHaveNone() throws Exception {
        try (Classifier ghost = Classifier.load(bundle(GHOST, true));
                Classifier traced = Classifier.load(bundle(TRACED, true))) {
            List<long[]> sites = ghost.dropoutSites();
            assertNotNull(sites);
            assertEquals(4, sites.size());
            assertArrayEquals(new long[] {16, 48, 48}, sites.get(0));
            assertArrayEquals(new long[] {48, 6, 6}, sites.get(3));
            assertNull(traced.dropoutSites());
            assertEquals(List.of("forward"), traced.methods());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Dropout(0.1).checkSupport(traced, m));
            assertTrue(e.getMessage().contains("no dropout sites") && e.getMessage().contains("[forward]"), e.getMessage());
            new Dropout(0.1).checkSupport(ghost, m); // passes
        }
    }

    @Test
    void masksAreInvertedDropoutDrawnPerImage() {
        List<long[]> sites = List.of(new long[] {8, 10, 10}, new long[] {50});
        Dropout d = new Dropout(0.25);
        long[] seeds = {11, 22, 33};
        float[][] all = d.masks(sites, 3, new Draws(seeds));
        int dropped = 0;
        int total = 0;
        for (float[] site : all) {
            for (float v : site) {
                assertTrue(v == 0f || v == d.scale(), "mask value " + v);
                dropped += v == 0f ? 1 : 0;
                total++;
            }
        }
        assertEquals(0.25, dropped / (double) total, 0.03, "drop rate");
        assertEquals(1f / 0.75f, d.scale());
        // Image 1's masks are the same when it is drawn alone: they depend on its stream only.
        float[][] alone = d.masks(sites, 1, new Draws(new long[] {22}));
        assertArrayEquals(Arrays.copyOfRange(all[0], 800, 1600), alone[0]);
        assertArrayEquals(Arrays.copyOfRange(all[1], 50, 100), alone[1]);
        // p = 0 keeps everything, at factor exactly 1.
        for (float[] site : new Dropout(0).masks(sites, 2, Draws.sequential(2))) {
            for (float v : site) {
                assertEquals(1f, v);
            }
        }
    }

    /**
     * BatchNorm stays in eval mode: with all-ones masks (p = 0) the masked forward is the eval
     * model bit for bit, on the demo images (which also go through the 64 -> 48 resize). The same
     * module in train mode (what {@code module.train()} would do) gives other logits: the check
     * would see it.
     */
    @Test
    void zeroDropoutIsTheEvalModelExactly() throws Exception {
        float[] px = Fixtures.batch(imgs);
        try (Classifier ghost = Classifier.load(bundle(GHOST, true));
                Classifier trainMode = Classifier.load(bundle(GHOST, true));
                NDManager s = m.newSubManager()) {
            NDArray x = s.create(px, new Shape(4, 3, 64, 64));
            List<long[]> sites = ghost.dropoutSites();
            float[] plain = Autograd.noGrad(() -> ghost.logits(x).toFloatArray());
            float[] ones = Autograd.noGrad(() -> ghost.logits(x,
                    ModelAugmentation.toArrays(new Dropout(0).masks(sites, 4, Draws.sequential(4)), sites, 4, s)).toFloatArray());
            assertArrayEquals(plain, ones);
            float[] dropped = Autograd.noGrad(() -> ghost.logits(x,
                    ModelAugmentation.toArrays(new Dropout(0.1).masks(sites, 4, Draws.sequential(4)), sites, 4, s)).toFloatArray());
            assertFalse(Arrays.equals(plain, dropped), "p = 0.1 changes the logits");

            // Sensitivity of the check: train mode (BatchNorm on batch statistics) is visibly different.
            ai.djl.pytorch.jni.JniUtils.enableTrainingMode(block(trainMode));
            float[] train = Autograd.noGrad(() -> trainMode.logits(x,
                    ModelAugmentation.toArrays(new Dropout(0).masks(sites, 4, Draws.sequential(4)), sites, 4, s)).toFloatArray());
            assertTrue(maxDiff(plain, train) > 1e-3, "train mode would change the logits by " + maxDiff(plain, train));
            Report.append("dropout.md", String.format(java.util.Locale.ROOT,
                    "| ghost_b, p 0 vs eval forward: max abs diff %s | module.train() instead: max abs logit diff %.3f |",
                    maxDiff(plain, ones), maxDiff(plain, train)));
        }
        // The whole engine: dropout(p=0) gives the no-augmentation attack byte for byte.
        try (Ensemble ens = Ensemble.load(List.of(bundle(GHOST, true), bundle(TRACED, false)))) {
            float[] none = new AttackEngine(attack(2, 3, "mi", List.of()), ens)
                    .run(px, new long[] {4, 3, 64, 64}, labels(), targets(), Draws.sequential(4), m, null);
            float[] zero = new AttackEngine(attack(2, 3, "mi", List.of(new Dropout(0))), ens)
                    .run(px, new long[] {4, 3, 64, 64}, labels(), targets(), Draws.sequential(4), m, null);
            assertArrayEquals(none, zero);
        }
    }

    private static PtSymbolBlock block(Classifier c) throws Exception {
        java.lang.reflect.Field f = Classifier.class.getDeclaredField("block");
        f.setAccessible(true);
        return (PtSymbolBlock) f.get(c);
    }

    /**
     * With the step size 0 every iteration takes the gradient at the same point: with dropout the
     * gradients differ from step to step (fresh masks), without they are identical. In every
     * ensemble mode, next to a traced model kept out of the augmentation.
     */
    @Test
    void dropoutChangesGradientsBetweenIterations() throws Exception {
        float[] px = Fixtures.batch(imgs);
        try (Ensemble ens = Ensemble.load(List.of(bundle(GHOST, true), bundle(TRACED, false)))) {
            for (EnsembleMode mode : EnsembleMode.values()) {
                for (double p : new double[] {0, 0.1}) {
                    List<float[]> grads = new ArrayList<>();
                    List<ModelAugmentation> aug = p == 0 ? List.of() : List.of(new Dropout(p));
                    new AttackEngine(attack(0, 3, "mi", aug, mode), ens).run(px, new long[] {4, 3, 64, 64}, labels(),
                            targets(), Draws.sequential(4), m, (t, x, mom, g, next, nextMom) -> grads.add(g.toFloatArray()));
                    assertEquals(3, grads.size());
                    if (p == 0) {
                        assertArrayEquals(grads.get(0), grads.get(1), mode + " without dropout");
                        assertArrayEquals(grads.get(0), grads.get(2), mode + " without dropout");
                    } else {
                        double d01 = relDiff(grads.get(0), grads.get(1));
                        double d12 = relDiff(grads.get(1), grads.get(2));
                        double cos = cosine(grads.get(0), grads.get(1));
                        Report.append("dropout.md", String.format(java.util.Locale.ROOT,
                                "| %s, ghost_b + tiny_a, p 0.1: gradient at the same point, step to step | rel. L2 change %.3f, %.3f | cosine %.3f |",
                                mode.spec(), d01, d12, cos));
                        assertTrue(d01 > 1e-3 && d12 > 1e-3, mode + ": gradients should move with the masks: " + d01 + ", " + d12);
                        // ... but stay correlated: each is the gradient of a thinned copy of the same models.
                        assertTrue(cos > 0.3, mode + ": cosine " + cos);
                    }
                }
            }
        }
    }

    /**
     * Same seeds give byte-identical results; an image's result does not depend on its
     * batch-mates or position (its masks come from its own stream); another seed gives another
     * result. Ensemble of the dropout model and a traced model kept out of the augmentation.
     */
    @Test
    void dropoutRunsAreReproduciblePerImage() throws Exception {
        Attack attack = AttackConfig.builder().eps(8).steps(4).stepSize(2).update("mi").inputs(List.of("flip(p=0.5)"))
                .copies(2).augments(List.of("dropout(p=0.1)")).build().toAttack();
        assertTrue(attack.spec().endsWith("augment=[dropout(p=0.1)]"), attack.spec());
        long[] seeds = rows.stream().mapToLong(r -> Draws.seedFor("r", attack.spec(), r.imageId())).toArray();
        int per = 3 * 64 * 64;
        int[] y = labels();
        int[] t = targets();
        try (Ensemble ens = Ensemble.load(List.of(bundle(GHOST, true), bundle(TRACED, false)))) {
            AttackEngine engine = new AttackEngine(attack, ens);
            float[] all = engine.run(Fixtures.batch(imgs), new long[] {4, 3, 64, 64}, y, t, new Draws(seeds), m, null);
            float[] again = engine.run(Fixtures.batch(imgs), new long[] {4, 3, 64, 64}, y, t, new Draws(seeds), m, null);
            assertArrayEquals(all, again, "rerun");
            float[] alone = engine.run(Fixtures.batch(List.of(imgs.get(2))), new long[] {1, 3, 64, 64},
                    new int[] {y[2]}, new int[] {t[2]}, new Draws(new long[] {seeds[2]}), m, null);
            float[] reversed = engine.run(Fixtures.batch(List.of(imgs.get(2), imgs.get(1), imgs.get(0))),
                    new long[] {3, 3, 64, 64}, new int[] {y[2], y[1], y[0]}, new int[] {t[2], t[1], t[0]},
                    new Draws(new long[] {seeds[2], seeds[1], seeds[0]}), m, null);
            float[] inBatch = Arrays.copyOfRange(all, 2 * per, 3 * per);
            assertArrayEquals(inBatch, alone, "alone");
            assertArrayEquals(inBatch, Arrays.copyOfRange(reversed, 0, per), "first of a reversed batch");
            float[] other = engine.run(Fixtures.batch(List.of(imgs.get(2))), new long[] {1, 3, 64, 64},
                    new int[] {y[2]}, new int[] {t[2]}, new Draws(new long[] {seeds[2] + 1}), m, null);
            assertFalse(Arrays.equals(inBatch, other), "another seed, other masks");
        }
    }

    @Test
    void engineRefusesAnAugmentedModelWithoutSites() throws Exception {
        try (Ensemble ens = Ensemble.load(List.of(bundle(GHOST, true), bundle(TRACED, true)))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new AttackEngine(attack(1, 1, "mi", List.of(new Dropout(0.1))), ens));
            assertTrue(e.getMessage().contains("dropout(p=0.1)") && e.getMessage().contains("tiny_a"), e.getMessage());
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    static double relDiff(float[] a, float[] b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - (double) b[i]) * (a[i] - (double) b[i]);
            den += (double) b[i] * b[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-30));
    }

    private static double cosine(float[] a, float[] b) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += a[i] * (double) b[i];
            aa += a[i] * (double) a[i];
            bb += b[i] * (double) b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }
}
