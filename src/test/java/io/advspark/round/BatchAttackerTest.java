package io.advspark.round;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.advspark.data.InMemoryStorage;
import io.advspark.data.ManifestRow;
import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.data.Storage;
import io.advspark.model.Ensemble;
import io.advspark.model.ModelBundle;
import io.advspark.model.ModelLoader;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.ConfigLoader;
import io.advspark.plan.RoundConfig;
import io.advspark.score.Perturbation;
import io.advspark.testing.Fixtures;
import io.advspark.util.Fingerprint;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

/**
 * One batch of a round without Spark: the demo images in an in-memory store, the demo surrogates,
 * and the records checked against the PNGs the attacker wrote.
 */
class BatchAttackerTest {

    @Test
    void aBatchWritesItsPngsInsideTheRoundAndRecordsDescribeThem() throws Exception {
        InMemoryStorage mem = new InMemoryStorage();
        List<ManifestRow> rows = Fixtures.manifest(Fixtures.DEMO_DATA, 0, 4);
        for (ManifestRow r : rows) {
            mem.writeAtomically("mem://data/images/" + r.imageId(),
                    Files.readAllBytes(Fixtures.DEMO_DATA.resolve("images").resolve(r.imageId())));
        }
        byte[] manifest = Files.readAllBytes(Fixtures.DEMO_DATA.resolve("dev.csv"));
        RoundConfig plan = ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of("round.output=\"mem://out\"", "dataset.uri=\"mem://data\"",
                "attack.steps=3"));
        List<ModelBundle> bundles = ModelLoader.load(plan.surrogateSources(), Storage.of(new Configuration()), 1);
        Provenance provenance = Provenance.of(bundles, "mem://data/dev.csv", manifest);
        Map<BatchAttacker.Phase, Long> times = new EnumMap<>(BatchAttacker.Phase.class);
        RoundLayout layout = RoundLayout.of(plan);
        Storage round = mem.fencedTo(layout.root());

        List<AttackRecord> records;
        AttackRecord failed;
        try (Ensemble ensemble = Ensemble.load(bundles); NDManager manager = TorchRuntime.newManager(Device.cpu())) {
            BatchAttacker attacker = new BatchAttacker(plan, round, ensemble, provenance, "test-executor", "cpu", null,
                    (phase, nanos) -> times.merge(phase, nanos, Long::sum));
            assertEquals(List.of("main"), attacker.attackNames());
            List<BatchAttacker.Loaded> batch = new ArrayList<>();
            for (ManifestRow r : rows) {
                BatchAttacker.Loaded l = attacker.read(r);
                assertNull(l.error(), l.error());
                batch.add(l.forAttacks(List.of("main")));
            }
            List<List<BatchAttacker.Loaded>> groups = attacker.groups("main", batch);
            assertEquals(1, groups.size(), "the demo images share one size");
            records = attacker.attack("main", groups.get(0), manager);
            BatchAttacker.Loaded missing = attacker.read(new ManifestRow(9, "missing.png", 1, 2, null));
            assertTrue(missing.error().startsWith("image file not found: mem://data/images/missing.png (manifest line 9)"),
                    missing.error());
            failed = attacker.failed("main", missing.row(), missing.error());
        }

        assertEquals(rows.size(), records.size());
        for (int i = 0; i < rows.size(); i++) {
            AttackRecord rec = records.get(i);
            ManifestRow r = rows.get(i);
            assertEquals(r.imageId(), rec.imageId());
            byte[] png = mem.readAll(layout.png("main", r.imageId()));
            assertEquals(png.length, rec.pngBytes());
            assertEquals(Fingerprint.crc32c(png), rec.pngCrc32c());
            assertEquals("images/main/" + r.imageId(), rec.outputFile());
            // The norms describe the written PNG, and the budget holds after rounding to 8 bits.
            RgbImage clean = Png.decode(Files.readAllBytes(Fixtures.DEMO_DATA.resolve("images").resolve(r.imageId())), "clean");
            Perturbation p = Perturbation.between(clean, Png.decode(png, "adv"));
            assertEquals(p.linf(), rec.linf());
            assertEquals(p.l2(), rec.l2());
            assertTrue(rec.linf() <= 8, "linf " + rec.linf());
            assertEquals(plan.attack().toAttack().spec(), rec.attackSpec());
            assertEquals(provenance.manifestSha256(), rec.manifestSha256());
            assertEquals("test-executor", rec.executorId());
            assertNull(rec.error());
            assertEquals(0, rec.zeroGradientSteps(), "the demo CE loss has a gradient at every step");
            assertEquals(RecordTables.RECORDS.names().size(), rec.values().length);
        }
        assertEquals("missing.png", failed.imageId());
        assertNull(failed.advPred());
        assertNull(failed.pngBytes());
        assertTrue(failed.error().contains("missing.png"));
        assertTrue(times.keySet().containsAll(List.of(BatchAttacker.Phase.values())), times.toString());
        // Nothing was written outside the round: the data set and the round's PNGs are all there is.
        for (String f : mem.files()) {
            assertTrue(f.startsWith("mem://data/images/") || f.startsWith(layout.root() + "/images/main/"), f);
        }
        assertEquals(rows.size(), mem.files().stream().filter(f -> f.startsWith(layout.root())).count());
    }
}
