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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The warping input transform DeCowA ({@link io.advspark.attack.input.Decowa}):
 *
 * <ul>
 *   <li>teacher-forced step parity against its independent reference,
 *       src/test/python/reference_ext_warp.py (thin-plate spline by torch.linalg.solve per warp,
 *       F.grid_sample, the inner gradient by autograd through both), on 4 CIFAR images and the two
 *       CIFAR ResNets (ParityHarness): the step's gradient (1e-5 relative L2), the next iterate
 *       (99.99 % of elements) and the inner-updated warps Java traced ({@code decowa_noise},
 *       99.99 % within 1e-6), the reference continuing from Java's warps;
 *   <li>bit-identical results under a row cap smaller than the copies' rows (the inner step's
 *       forwards are cut too);
 *   <li>the forwards of a step: the inner step's rows, then the engine's, each one pass per member
 *       under the cap.
 * </ul>
 */
class WarpParityTest {
    @ParameterizedTest(name = "{0} {1} [{2}]")
    @CsvSource(delimiter = '|', value = {
        // 6 copies: built 5 and 1 at a time (inner step and warp), the maps traced whole.
        "mi(decay=1.0) | ce(untargeted=1, targeted=0) | decowa(copies=6)",
        // A 4 x 4 mesh (four moving points) under the logit loss.
        "mi(decay=1.0) | logit | decowa(copies=2, mesh=4, noise=1.0, rho=0.01)",
    })
    void decowaMatchesReference(String update, String loss, String inputs) throws Exception {
        ParityHarness.engine();
        List<String> in = List.of(inputs.split(";\\s*"));
        String name = ("warp-" + update + "-" + loss + "-" + in).replaceAll("[^a-z0-9.]", "");
        JsonNode r = ParityHarness.runAndCompare(name, update, loss, "zeros", in, List.of(), "none", 1);
        double maxDiff = 0;
        for (JsonNode st : r.get("steps")) {
            maxDiff = Math.max(maxDiff, st.path("input_inner_max_abs_diff").asDouble(0));
        }
        Report.append("parity-warp.md", String.format(Locale.ROOT,
                "| %s | %s | inputs %s | max grad rel L2 %.3g | min inner-warp agreement %.6f | max inner-warp |diff| %.3g |"
                        + " min next-x agreement %.6f |",
                update, loss, in, r.get("max_grad_rel_l2").asDouble(), r.get("min_input_inner_agree").asDouble(),
                maxDiff, r.get("min_next_x_agree").asDouble()));
        ParityHarness.assertCriteria(name, r);
    }

    private static final Path DEMO = Path.of("demo").toAbsolutePath();

    /** The row cap cuts the inner step's forwards as well as the engine's: results bit-identical. */
    @Test
    void resultsDoNotDependOnTheRowCap() throws Exception {
        TorchRuntime.start(2);
        Attack attack = AttackConfig.builder().eps(8).steps(3).stepSize(2).update("mi(decay=1.0)")
                .inputs(List.of("decowa(copies=3, mesh=4)")).copies(1).build().toAttack();
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
            for (int cap : new int[] {1, 4, 7}) {
                float[] cut = new AttackEngine(attack, ens, cap).run(clean, shape, y, y, new Draws(seeds), m, null);
                assertArrayEquals(whole, cut, attack.spec() + ": max-rows " + cap + " differs from one forward per call");
            }
        }
    }

    /** What one run saw: per step, the rows of every forward of member 0, in order. */
    private static final class Forwards implements StepObserver {
        final List<List<Integer>> steps = new ArrayList<>();

        @Override
        public void onStep(int step, NDArray x, NDArray momentum, NDArray grad, NDArray nextX, NDArray nextMomentum) {}

        @Override
        public void onForward(int step, int member, String model, int rows) {
            while (steps.size() <= step) {
                steps.add(new ArrayList<>());
            }
            if (member == 0) {
                steps.get(step).add(rows);
            }
        }
    }

    /**
     * A step is two passes over the copies' rows per member: the inner step's (the warps' input
     * gradient) and the engine's, each cut under the row cap, never a forward per copy; with more
     * than 5 copies each pass goes 5 copies at a time (4 images: 20 rows, then the rest).
     */
    @ParameterizedTest(name = "copies {0}, attack copies {1}, max-rows {2}")
    @CsvSource(delimiter = ';', value = {
        "3;1;64;12,12",
        "3;2;64;24,24",
        "3;1;5;5,5,2,5,5,2",
        "7;1;64;20,8,20,8",
    })
    void aStepIsTwoBatchedPasses(int copies, int attackCopies, int maxRows, String expected) throws Exception {
        Path data = Shared.cifar10();
        TorchRuntime.start(2);
        int n = 4;
        List<ManifestRow> manifest = Fixtures.manifest(data, 0, n);
        float[] clean = Fixtures.batch(Fixtures.images(data, manifest));
        int[] y = manifest.stream().mapToInt(ManifestRow::trueLabel).toArray();
        int steps = 2;
        Attack attack = AttackConfig.builder().eps(8).steps(steps).stepSize(2).update("mi(decay=1.0)")
                .inputs(List.of("decowa(copies=" + copies + ")")).copies(attackCopies).build().toAttack();
        List<Integer> want = java.util.Arrays.stream(expected.split(",")).map(Integer::valueOf).toList();
        try (Ensemble ens = Ensemble.load(List.of(Fixtures.bundle(Shared.cifarModel("resnet20"), 1.0),
                        Fixtures.bundle(Shared.cifarModel("resnet32"), 1.0)));
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            Forwards seen = new Forwards();
            new AttackEngine(attack, ens, maxRows).run(clean, new long[] {n, 3, 32, 32}, y, y, Draws.sequential(n), m, seen);
            assertEquals(steps, seen.steps.size(), "steps observed");
            for (int t = 0; t < steps; t++) {
                assertEquals(want, seen.steps.get(t), attack.spec() + ": rows of member 0's forwards in step " + t);
            }
        }
    }
}
