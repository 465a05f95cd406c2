package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.advspark.data.ManifestRow;
import io.advspark.model.Ensemble;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.AttackConfig;
import io.advspark.testing.Fixtures;
import io.advspark.testing.Shared;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The "copies are batched into one forward pass, not looped per copy": the real engine on
 * a real two-model ensemble, with the forwards counted through {@link StepObserver#onForward}
 * (called by the ensemble before each member's forward). SI's scales, Admix's mixes x scales and
 * the attack's {@code copies} (k independent draws) all go through each surrogate as ONE forward
 * of {@code images x copies} rows per step, and a sampling rule's points (variance tuning's
 * neighbours) as one more call; a call larger than the row cap is cut into micro-batches of at
 * most that many rows, never into a forward per copy or per point.
 */
class CopiesBatchingTest {
    private static final int N = 4;

    /** What one run saw: per step, the (member, rows) of every member forward, in order. */
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

    @ParameterizedTest(name = "{0} | {1} | copies={2} | {3} | max-rows {4}")
    @CsvSource(delimiter = ';', value = {
        // update; inputs (| separated); copies; ensemble; max-rows; rows of each ensemble forward in a step
        "mi;;1;logits;64;4",
        "mi;si(copies=5);1;logits;64;20",
        "mi;admix(strength=0.2, mixes=3, copies=5);1;logits;64;60",
        "mi;;4;logits;64;16",
        "ni;di(p=0.5, resize=1.1)|si(copies=3);2;logits;64;24",
        "mi;admix(strength=0.2, mixes=2, copies=2)|jpeg(quality=75);3;probs;64;48",
        "mi;si(copies=2);2;losses;64;16",
        // Variance tuning: the gradient at x, then all neighbours in one call (3 x 8 rows).
        "vmi(n=3);si(copies=2);1;logits;64;8|24",
        // The row cap cuts a call into micro-batches, never a forward per copy or per neighbour.
        "mi;admix(strength=0.2, mixes=3, copies=5);1;logits;16;16|16|16|12",
        "vmi(n=20);;1;logits;64;4|64|16",
        "vmi(n=20);;1;logits;1000;4|80",
    })
    void everyCopyGoesThroughOneForwardPerStep(String update, String inputs, int copies, String mode, int maxRows,
            String rowsPerForward) throws Exception {
        Path data = Shared.cifar10();
        TorchRuntime.start(2);
        List<ManifestRow> manifest = Fixtures.manifest(data, 0, N);
        float[] clean = Fixtures.batch(Fixtures.images(data, manifest));
        int[] y = manifest.stream().mapToInt(ManifestRow::trueLabel).toArray();
        List<String> in = inputs == null ? List.of() : List.of(inputs.split("\\|"));
        int[] rows = java.util.Arrays.stream(rowsPerForward.split("\\|")).mapToInt(Integer::parseInt).toArray();
        int steps = 2;
        Attack attack = AttackConfig.builder().eps(8).steps(steps).stepSize(2).update(update).inputs(in)
                .ensemble(mode).copies(copies).build().toAttack();
        try (Ensemble ens = Ensemble.load(List.of(
                        Fixtures.bundle(Shared.cifarModel("resnet20"), 1.0),
                        Fixtures.bundle(Shared.cifarModel("resnet32"), 1.0)));
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            Forwards seen = new Forwards();
            new AttackEngine(attack, ens, maxRows).run(clean, new long[] {N, 3, 32, 32}, y, y, Draws.sequential(N), m, seen);
            assertEquals(steps, seen.steps.size(), "steps observed");
            for (int t = 0; t < steps; t++) {
                List<int[]> calls = seen.steps.get(t);
                assertEquals(2 * rows.length, calls.size(), attack.spec() + ": member forwards in step " + t);
                for (int c = 0; c < calls.size(); c++) {
                    assertEquals(c % 2, calls.get(c)[0], "members in order, step " + t);
                    assertEquals(rows[c / 2], calls.get(c)[1], attack.spec() + ": rows of forward " + c + " in step " + t);
                }
            }
        }
    }

    /** Observing the forwards changes nothing: the same bytes as the run without an observer. */
    @Test
    void observingForwardsLeavesTheResultUnchanged() throws Exception {
        Path data = Shared.cifar10();
        TorchRuntime.start(2);
        List<ManifestRow> manifest = Fixtures.manifest(data, 0, N);
        float[] clean = Fixtures.batch(Fixtures.images(data, manifest));
        int[] y = manifest.stream().mapToInt(ManifestRow::trueLabel).toArray();
        Attack attack = AttackConfig.builder().eps(8).steps(3).stepSize(2).update("ni")
                .inputs(List.of("di(p=0.5, resize=1.1)", "admix(strength=0.2, mixes=2, copies=2)")).copies(2).build().toAttack();
        try (Ensemble ens = Ensemble.load(List.of(Fixtures.bundle(Shared.cifarModel("resnet20"), 1.0)));
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            AttackEngine engine = new AttackEngine(attack, ens);
            long[] shape = {N, 3, 32, 32};
            float[] plain = engine.run(clean, shape, y, y, Draws.sequential(N), m, null);
            float[] observed = engine.run(clean, shape, y, y, Draws.sequential(N), m, new Forwards());
            assertArrayEquals(plain, observed);
        }
    }
}
