package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.advspark.model.Ensemble;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.AttackConfig;
import io.advspark.testing.Fixtures;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Random parts draw from one stream per (round, attack, image): the same image gives identical
 * output alone or in another batch, in another position. Uses the repository's demo set.
 */
class ReproducibilityTest {

    @Test
    void randomAttackIsPerImageDeterministic() throws Exception {
        check("vmi(n=2)", List.of(), "uniform");
    }

    /** Every random input transform (Admix excepted: it mixes in the batch's other images, by design). */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {
        "di(p=0.5, resize=1.1)", "translate(max=0.1)", "rotate(degrees=10)", "flip(p=0.5)", "noise(std=0.05)",
        "di(p=0.5, resize=1.1)|si(copies=3)", "bsr(blocks=2, degrees=24, copies=2)", "sia(blocks=3, copies=2)"})
    void randomInputTransformsArePerImageDeterministic(String inputs) throws Exception {
        check("mi(decay=1.0)", List.of(inputs.split("\\|")), "zeros");
    }

    private static void check(String update, List<String> inputs, String init) throws Exception {
        TorchRuntime.start(2);
        Path data = Path.of("demo/data");
        var rows = Fixtures.manifest(data, 0, 3);
        var imgs = Fixtures.images(data, rows);
        AttackConfig cfg = AttackConfig.builder().eps(8).steps(4).stepSize(2).update(update).inputs(inputs).init(init)
                .build();
        Attack attack = cfg.toAttack();
        long[] seeds = rows.stream().mapToLong(r -> Draws.seedFor("r", attack.spec(), r.imageId())).toArray();
        int per = 3 * 64 * 64;
        try (Ensemble ens = Ensemble.load(List.of(Fixtures.bundle(Path.of("demo/models/tiny_a.pt"), 1.0),
                        Fixtures.bundle(Path.of("demo/models/tiny_b.pt"), 1.0)));
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            AttackEngine engine = new AttackEngine(attack, ens);
            int[] y = rows.stream().mapToInt(r -> r.trueLabel()).toArray();
            int[] t = rows.stream().mapToInt(r -> r.targetLabel()).toArray();
            float[] all = engine.run(Fixtures.batch(imgs), new long[] {3, 3, 64, 64}, y, t, new Draws(seeds), m, null);
            // Image 2 alone, and first in a reversed batch.
            float[] alone = engine.run(Fixtures.batch(List.of(imgs.get(2))), new long[] {1, 3, 64, 64},
                    new int[] {y[2]}, new int[] {t[2]}, new Draws(new long[] {seeds[2]}), m, null);
            float[] reversed = engine.run(Fixtures.batch(List.of(imgs.get(2), imgs.get(1), imgs.get(0))),
                    new long[] {3, 3, 64, 64}, new int[] {y[2], y[1], y[0]}, new int[] {t[2], t[1], t[0]},
                    new Draws(new long[] {seeds[2], seeds[1], seeds[0]}), m, null);
            float[] inBatch = Arrays.copyOfRange(all, 2 * per, 3 * per);
            assertArrayEquals(inBatch, alone);
            assertArrayEquals(inBatch, Arrays.copyOfRange(reversed, 0, per));
            // Another seed gives another result (the draws matter).
            float[] other = engine.run(Fixtures.batch(List.of(imgs.get(2))), new long[] {1, 3, 64, 64},
                    new int[] {y[2]}, new int[] {t[2]}, new Draws(new long[] {seeds[2] + 1}), m, null);
            assertFalse(Arrays.equals(inBatch, other));
        }
    }
}
