package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.advspark.data.ManifestRow;
import io.advspark.model.Ensemble;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.AttackConfig;
import io.advspark.testing.Fixtures;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A batch of ONE image through every input transform: DJL's concat of a single array leaves the
 * autograd graph, which once broke DI, SI, Admix and every per-row transform when a batch (or
 * the last group of a resumed round) held one image. Demo models: runs on a fresh clone.
 */
class SingleImageBatchTest {
    private static final Path DEMO = Path.of("demo").toAbsolutePath();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "di(p=1.0, resize=1.1)", "si(copies=1)", "si(copies=3)", "admix(strength=0.2, mixes=1, copies=1)",
        "admix(strength=0.2, mixes=2, copies=2)", "translate(max=0.1)", "rotate(degrees=10)", "flip(p=1.0)",
        "noise(std=0.05)", "brightness(m=2)", "jpeg(quality=75)", "bsr(blocks=2, degrees=24, copies=1)",
        "bsr(blocks=3, degrees=24, copies=2)", "sia(blocks=1, copies=1)", "sia(blocks=3, copies=2)"})
    void everyInputTransformHasAGradientOnABatchOfOne(String input) throws Exception {
        TorchRuntime.start(2); // the test JVM's count (surefire argLine): libtorch reads it once per JVM
        Path data = DEMO.resolve("data");
        List<ManifestRow> manifest = Fixtures.manifest(data, 0, 1);
        float[] clean = Fixtures.batch(Fixtures.images(data, manifest));
        int[] y = {manifest.get(0).trueLabel()};
        Attack attack = AttackConfig.builder().eps(8).steps(2).stepSize(4).update("mi(decay=1.0)")
                .inputs(List.of(input)).build().toAttack();
        try (Ensemble ens = Ensemble.load(List.of(Fixtures.bundle(DEMO.resolve("models/tiny_a.pt"), 1.0)));
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            float[] adv = new AttackEngine(attack, ens).run(clean, new long[] {1, 3, 64, 64}, y, y, Draws.sequential(1), m, null);
            double moved = 0;
            for (int i = 0; i < adv.length; i++) {
                moved = Math.max(moved, Math.abs(adv[i] - clean[i]));
            }
            assertTrue(moved > 0.5 * 8 / 255.0, input + ": the perturbation did not move (max " + moved * 255 + " px)");
        }
    }
}
