package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.advspark.data.ManifestRow;
import io.advspark.data.RgbImage;
import io.advspark.model.Ensemble;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.AttackConfig;
import io.advspark.testing.Fixtures;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An image's adversarial pixels do not depend on the batch it is attacked in, bit for bit: alone,
 * with one other image, or with five. Resuming redoes a batch with whatever is left, and the job
 * splits work into partitions of any size (job/WorkSplit), so without this a rerun or another
 * cluster size would write other PNGs. A batch of one once differed (libtorch's matrix-vector
 * kernels; see model/Classifier#logits). Demo models and images: runs on a fresh clone.
 */
class BatchInvarianceTest {
    private static final Path DEMO = Path.of("demo").toAbsolutePath();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mi(decay=1.0)|", "mi(decay=1.0)|di(p=0.5, resize=1.1)", "ni(decay=1.0)|si(copies=2)",
        "mi(decay=1.0)|translate(max=0.1)", "mi(decay=1.0)|ssa(copies=7, rho=0.5, sigma=1)",
        "mi(decay=1.0)|bsr(blocks=2, degrees=24, copies=2)", "mi(decay=1.0)|sia(blocks=3, copies=2)",
        "mi(decay=1.0)|ops(neighbors=2, operators=2)",
        // OPS built a neighbour at a time between two transforms that draw, at two points (VMI).
        "vmi(decay=1.0, n=2, beta=1.5)|di(p=0.5, resize=1.1)|ops(neighbors=2, operators=2)|di(p=0.5, resize=1.1)"})
    void anImageComesOutTheSameAloneOrInAnyBatch(String spec) throws Exception {
        TorchRuntime.start(2);
        String[] parts = spec.split("\\|", -1);
        List<String> inputs = parts[1].isEmpty() ? List.of() : List.of(parts).subList(1, parts.length);
        Attack attack = AttackConfig.builder().eps(8).steps(10).stepSize(0.8).update(parts[0]).inputs(inputs).build().toAttack();
        Path data = DEMO.resolve("data");
        List<ManifestRow> rows = Fixtures.manifest(data, 0, 8);
        List<RgbImage> images = Fixtures.images(data, rows);
        int per = 3 * 64 * 64;
        try (Ensemble ens = Ensemble.load(List.of(Fixtures.bundle(DEMO.resolve("models/tiny_a.pt"), 1.0),
                        Fixtures.bundle(DEMO.resolve("models/tiny_b.pt"), 1.0)));
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            // The demo round's batch of 8, as the job runs it; image 6 once came out differently alone.
            float[] eight = run(attack, ens, m, rows, images, 0, 8);
            for (int[] range : new int[][] {{6, 7}, {0, 1}, {0, 2}, {7, 8}, {2, 4}, {3, 6}}) {
                float[] part = run(attack, ens, m, rows, images, range[0], range[1]);
                assertArrayEquals(Arrays.copyOfRange(eight, range[0] * per, range[1] * per), part,
                        spec + ": images " + range[0] + ".." + (range[1] - 1) + " in a batch of " + (range[1] - range[0])
                                + " differ from the same images in a batch of 8");
            }
        }
    }

    @org.junit.jupiter.api.Test
    void dropoutMasksFollowTheirImageIntoSmallBatches() throws Exception {
        // Small batches repeat the masks with the rows (model/Classifier): ghost_b has four dropout sites.
        TorchRuntime.start(2);
        Attack attack = new Attack(8, 0.8, 10, new io.advspark.attack.init.ZeroInit(), List.of(),
                new io.advspark.attack.loss.CrossEntropy(1, 0), List.of(), new io.advspark.attack.update.Momentum(1.0, false, 0, 0),
                null, 1, EnsembleMode.LOGITS, List.of(new io.advspark.attack.augment.Dropout(0.1)));
        Path data = DEMO.resolve("data");
        List<ManifestRow> rows = Fixtures.manifest(data, 0, 8);
        List<RgbImage> images = Fixtures.images(data, rows);
        int per = 3 * 64 * 64;
        io.advspark.model.ModelBundle b = Fixtures.bundle(DEMO.resolve("models/ghost_b.pt"), 1.0);
        try (Ensemble ens = Ensemble.load(List.of(new io.advspark.model.ModelBundle(b.uri(), b.card(), b.torchScript(), 1.0, true)));
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            float[] eight = run(attack, ens, m, rows, images, 0, 8);
            for (int[] range : new int[][] {{6, 7}, {0, 2}, {4, 7}}) {
                float[] part = run(attack, ens, m, rows, images, range[0], range[1]);
                assertArrayEquals(Arrays.copyOfRange(eight, range[0] * per, range[1] * per), part,
                        "dropout: images " + range[0] + ".." + (range[1] - 1) + " in a batch of " + (range[1] - range[0])
                                + " differ from the same images in a batch of 8");
            }
        }
    }

    private static float[] run(Attack attack, Ensemble ens, NDManager m, List<ManifestRow> rows, List<RgbImage> images,
            int from, int to) throws Exception {
        int n = to - from;
        float[] clean = Fixtures.batch(images.subList(from, to));
        int[] y = new int[n];
        long[] seeds = new long[n];
        for (int i = 0; i < n; i++) {
            ManifestRow r = rows.get(from + i);
            y[i] = r.trueLabel();
            seeds[i] = Draws.seedFor("batch-invariance", attack.spec(), r.imageId());
        }
        return new AttackEngine(attack, ens).run(clean, new long[] {n, 3, 64, 64}, y, y, new Draws(seeds), m, null);
    }
}
