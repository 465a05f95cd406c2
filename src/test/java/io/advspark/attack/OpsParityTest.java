package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.advspark.data.ManifestRow;
import io.advspark.data.RgbImage;
import io.advspark.model.Ensemble;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.AttackConfig;
import io.advspark.testing.Fixtures;
import io.advspark.testing.Report;
import io.advspark.testing.Shared;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * OPS (Guo et al., CVPR 2025) against its independent PyTorch reference
 * (src/test/python/reference_ext_ops.py) in whole MI-FGSM steps on the CIFAR ResNets
 * ({@link ParityHarness}), with every neighbour's noise and every operator composition replayed
 * from the same per-image seeds; its hundreds of rows per image are a memory setting only: bit for
 * bit the same result under any row cap; and the copies, built a neighbour at a time, go through
 * each surrogate as micro-batches of that chunk, one forward per micro-batch, never a forward per
 * copy.
 */
class OpsParityTest {
    private static final Path DEMO = Path.of("demo").toAbsolutePath();

    @BeforeAll
    static void engine() {
        ParityHarness.engine();
    }

    /** update | inputs | loss | copies: small counts (7 and 9 copies) so each case runs in about a minute. */
    @ParameterizedTest(name = "{0} [{1}] {2} x{3}")
    @CsvSource(delimiter = '|', value = {
        "mi(decay=1.0) | ops(neighbors=2, operators=3) | ce(untargeted=1, targeted=0) | 1",
        // Other levels (single operators up to compositions of six), another loss, a tiled batch.
        "mi(decay=1.0) | ops(neighbors=2, operators=4, beta=1.5, min_level=1, max_level=6) | margin(targeted=false) | 2",
    })
    void stepsMatchReference(String update, String inputs, String loss, int copies) throws Exception {
        List<String> in = List.of(inputs);
        String name = ("ops-" + update + "-" + in + "-" + loss + "-" + copies).replaceAll("[^a-z0-9.-]", "");
        long t0 = System.nanoTime();
        JsonNode r = ParityHarness.runAndCompare(name, update, loss, "zeros", in, List.of(), "none", copies);
        Report.append("parity-ops.md", String.format(Locale.ROOT,
                "| %s | inputs %s | loss %s | copies %d | max grad rel L2 %.3g | min next-x agreement %.6f | %.1f s |",
                update, in, loss, copies, r.get("max_grad_rel_l2").asDouble(), r.get("min_next_x_agree").asDouble(),
                (System.nanoTime() - t0) / 1e9));
        ParityHarness.assertCriteria(name, r);
    }

    /** As RowCapInvarianceTest: 5 demo images, 7 copies each (35 rows per call), caps below the rows. */
    @Test
    void resultsDoNotDependOnTheRowCap() throws Exception {
        Attack attack = AttackConfig.builder().eps(8).steps(3).stepSize(2).update("mi(decay=1.0)")
                .inputs(List.of("ops(neighbors=2, operators=3)")).build().toAttack();
        Path data = DEMO.resolve("data");
        List<ManifestRow> rows = Fixtures.manifest(data, 0, 5);
        List<RgbImage> images = Fixtures.images(data, rows);
        int n = rows.size();
        float[] clean = Fixtures.batch(images);
        int[] y = rows.stream().mapToInt(ManifestRow::trueLabel).toArray();
        long[] seeds = rows.stream().mapToLong(r -> Draws.seedFor("row-cap", attack.spec(), r.imageId())).toArray();
        try (Ensemble ens = Ensemble.load(List.of(Fixtures.bundle(DEMO.resolve("models/tiny_a.pt"), 1.0),
                        Fixtures.bundle(DEMO.resolve("models/ghost_b.pt"), 1.0)));
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            long[] shape = {n, 3, 64, 64};
            float[] whole = new AttackEngine(attack, ens, 100_000).run(clean, shape, y, y, new Draws(seeds), m, null);
            for (int cap : new int[] {5, 16}) {
                float[] cut = new AttackEngine(attack, ens, cap).run(clean, shape, y, y, new Draws(seeds), m, null);
                assertArrayEquals(whole, cut, attack.spec() + ": max-rows " + cap + " differs from one forward per call");
            }
        }
    }

    /** Per step and member: the forwards' rows, as CopiesBatchingTest counts them. */
    private static final class Forwards implements StepObserver {
        final List<List<int[]>> steps = new ArrayList<>();

        @Override
        public void onStep(int step, NDArray x, NDArray momentum, NDArray grad, NDArray nextX, NDArray nextMomentum) {}

        @Override
        public void onForward(int step, int member, String model, int rows) {
            while (steps.size() <= step) {
                steps.add(new ArrayList<>());
            }
            steps.get(step).add(new int[] {member, rows});
        }
    }

    /**
     * 4 CIFAR images x (1 + 2 x 3) copies = 28 rows per step, built a neighbour's 3 operators at a
     * time (copies 0-2, 3-5, 6): one forward per member and chunk under the default cap (12, 12
     * and 4 rows), and one per micro-batch of a chunk under max-rows 8.
     */
    @ParameterizedTest(name = "max-rows {0}")
    @CsvSource(delimiter = ';', value = {"64;12|12|4", "8;8|4|8|4|4"})
    void oneForwardPerMicroBatch(int maxRows, String rowsPerForward) throws Exception {
        int n = 4;
        int steps = 2;
        Path data = Shared.cifar10();
        List<ManifestRow> manifest = Fixtures.manifest(data, 0, n);
        float[] clean = Fixtures.batch(Fixtures.images(data, manifest));
        int[] y = manifest.stream().mapToInt(ManifestRow::trueLabel).toArray();
        int[] rows = java.util.Arrays.stream(rowsPerForward.split("\\|")).mapToInt(Integer::parseInt).toArray();
        Attack attack = AttackConfig.builder().eps(8).steps(steps).stepSize(2).update("mi(decay=1.0)")
                .inputs(List.of("ops(neighbors=2, operators=3)")).build().toAttack();
        assertEquals(7, attack.rowsPerImage(), "rows per image the memory estimate sees");
        try (Ensemble ens = Ensemble.load(List.of(
                        Fixtures.bundle(Shared.cifarModel("resnet20"), 1.0),
                        Fixtures.bundle(Shared.cifarModel("resnet32"), 1.0)));
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            Forwards seen = new Forwards();
            new AttackEngine(attack, ens, maxRows).run(clean, new long[] {n, 3, 32, 32}, y, y, Draws.sequential(n), m, seen);
            assertEquals(steps, seen.steps.size(), "steps observed");
            for (int t = 0; t < steps; t++) {
                List<int[]> calls = seen.steps.get(t);
                assertEquals(2 * rows.length, calls.size(), "member forwards in step " + t);
                for (int c = 0; c < calls.size(); c++) {
                    assertEquals(c % 2, calls.get(c)[0], "members in order, step " + t);
                    assertEquals(rows[c / 2], calls.get(c)[1], "rows of forward " + c + " in step " + t);
                }
            }
        }
    }
}
