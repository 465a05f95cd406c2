package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.advspark.attack.input.ExampleNoOpInput;
import io.advspark.model.Ensemble;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.AttackConfig;
import io.advspark.plan.ConfigLoader;
import io.advspark.testing.Fixtures;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The test-only {@link ExampleNoOpInput}, named by spec, goes the way a round's parts go: checked at
 * configuration load, built by {@link io.advspark.plan.AttackConfig#toAttack}, run by the engine; being the identity it
 * must give exactly the attack without it.
 */
class ExamplePartRoundTest {

    @Test
    void aPartDeclaredInOneClassRunsFromItsSpec() throws Exception {
        AttackConfig loaded = ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of("advspark.attack.input=[\"example-noop(times=2)\"]")).attack();
        Attack viaConfig = loaded.toAttack();
        assertEquals(List.of(new ExampleNoOpInput(2)), viaConfig.inputs());
        assertTrue(viaConfig.spec().endsWith(" input=[example-noop(times=2)]"), viaConfig.spec());

        TorchRuntime.start(2);
        Path data = Path.of("demo/data");
        var rows = Fixtures.manifest(data, 0, 2);
        var imgs = Fixtures.images(data, rows);
        float[] with = run(List.of("example-noop(times=2)"), rows, imgs);
        float[] without = run(List.of(), rows, imgs);
        assertArrayEquals(without, with);
    }

    private static float[] run(List<String> inputs, List<io.advspark.data.ManifestRow> rows,
            List<io.advspark.data.RgbImage> imgs) throws Exception {
        AttackConfig cfg = AttackConfig.builder().eps(8).steps(2).stepSize(2).update("mi").inputs(inputs).build();
        Attack attack = cfg.toAttack();
        long[] seeds = rows.stream().mapToLong(r -> Draws.seedFor("r", "fixed", r.imageId())).toArray();
        try (Ensemble ens = Ensemble.load(List.of(Fixtures.bundle(Path.of("demo/models/tiny_a.pt"), 1.0)));
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            AttackEngine engine = new AttackEngine(attack, ens);
            int[] y = rows.stream().mapToInt(r -> r.trueLabel()).toArray();
            int[] t = rows.stream().mapToInt(r -> r.targetLabel()).toArray();
            return engine.run(Fixtures.batch(imgs), new long[] {rows.size(), 3, 64, 64}, y, t, new Draws(seeds), m, null);
        }
    }
}
