package io.advspark.round;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.advspark.data.InMemoryStorage;
import io.advspark.data.ManifestRow;
import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.defense.DefenseChain;
import io.advspark.model.Ensemble;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.DatasetConfig;
import io.advspark.round.BatchScorer.Item;
import io.advspark.round.BatchScorer.Loaded;
import io.advspark.round.BatchScorer.PassRow;
import io.advspark.round.BatchScorer.Variant;
import io.advspark.testing.Fixtures;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The evaluation's batch without Spark: defended top-5 of clean and written images on an in-memory store. */
class BatchScorerTest {

    @Test
    void cleanAndWrittenImagesAreScoredOnEveryDefendedTargetWithTheSameDefenseDraws() throws Exception {
        InMemoryStorage mem = new InMemoryStorage();
        List<ManifestRow> rows = Fixtures.manifest(Fixtures.DEMO_DATA, 0, 3);
        for (ManifestRow r : rows) {
            byte[] png = Files.readAllBytes(Fixtures.DEMO_DATA.resolve("images").resolve(r.imageId()));
            mem.writeAtomically("mem://data/images/" + r.imageId(), png);
            // A "written" image: the clean one with one pixel moved by 3.
            RgbImage img = Png.decode(png, r.imageId());
            byte[] px = img.pixels().clone();
            px[0] = (byte) Math.min(255, (px[0] & 0xff) + 3);
            mem.writeAtomically("mem://out/r/images/mi/" + r.imageId(), Png.encode(new RgbImage(img.height(), img.width(), px)));
        }
        DatasetConfig dataset = new DatasetConfig("mem://data", "tianchi", "dev.csv", 0, 0, 0);
        List<Variant> variants = List.of(new Variant(0, "tiny_b", DefenseChain.NONE),
                new Variant(0, "tiny_b", DefenseChain.parse("rp(ratio=1.2) > model")));
        List<PassRow> clean = new ArrayList<>();
        List<PassRow> adv = new ArrayList<>();
        List<PassRow> failed;
        try (Ensemble targets = Ensemble.load(List.of(Fixtures.bundle(Fixtures.DEMO_DATA.resolveSibling("models")
                        .resolve("tiny_b.pt"), 1.0)));
                NDManager manager = TorchRuntime.newManager(Device.cpu())) {
            BatchScorer scorer = new BatchScorer("r", dataset, variants, mem, targets);
            List<Loaded> c = new ArrayList<>();
            List<Loaded> a = new ArrayList<>();
            for (ManifestRow r : rows) {
                c.add(scorer.load(new Item(null, r.imageId(), null)));
                a.add(scorer.load(new Item("mi", r.imageId(), "mem://out/r/images/mi/" + r.imageId())));
            }
            clean.addAll(scorer.score(c, manager));
            adv.addAll(scorer.score(a, manager));
            Loaded gone = scorer.load(new Item("mi", "gone.png", "mem://out/r/images/mi/gone.png"));
            assertTrue(gone.error().contains("clean image not found: mem://data/images/gone.png"), gone.error());
            failed = scorer.failed(gone);
        }
        assertEquals(rows.size() * variants.size(), clean.size());
        assertEquals(rows.size() * variants.size(), adv.size());
        for (int i = 0; i < clean.size(); i++) {
            PassRow cr = clean.get(i);
            PassRow ar = adv.get(i);
            assertEquals(cr.imageId(), ar.imageId());
            assertEquals(cr.defense(), ar.defense());
            assertNull(cr.linf());
            assertEquals(3, ar.linf());
            assertEquals(3.0, ar.l2());
            assertEquals(5, ar.top5().length);
            assertEquals(ar.top1(), ar.top5()[0]);
            assertEquals(EvalTables.PASS.names().size(), ar.values().length);
        }
        assertEquals(List.of("model", "model", "model", "rp(ratio=1.2000) > model", "rp(ratio=1.2000) > model",
                "rp(ratio=1.2000) > model"), clean.stream().map(PassRow::defense).toList());
        // A one-pixel change rarely moves the tiny CNN; the same rp draw for both versions keeps it so.
        long sameTop5 = java.util.stream.IntStream.range(0, clean.size())
                .filter(i -> java.util.Arrays.equals(clean.get(i).top5(), adv.get(i).top5())).count();
        assertTrue(sameTop5 >= clean.size() - 1, sameTop5 + " of " + clean.size());
        assertEquals(variants.size(), failed.size());
        assertNull(failed.get(0).top1());
        assertArrayEquals(new String[] {"gone.png", "gone.png"}, failed.stream().map(PassRow::imageId).toArray());
    }
}
