package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.defense.DefenseChain;
import io.advspark.model.Ensemble;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.RoundConfig;
import io.advspark.round.BatchScorer;
import io.advspark.testing.Fixtures;
import io.advspark.testing.Rounds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code attack.stop = "validation"}: the demo round attacks with tiny_a and ghost_b (eps 32: from
 * these, tiny_b is fooled plain and behind jpeg(75) on every one of the 16 images after 10 steps)
 * and stops an image once
 * its quantised iterate fools the held-out tiny_b both plain and behind jpeg(75). Every stopped
 * image's written PNG fools both variants (checked here by scoring the PNG read back from disk) and
 * the surrogates (the white-box rate cannot drop);
 * an image that never did is written as without early exit; the validation models are named in
 * the round's identity.
 */
class ValidationStopRoundTest {

    @Test
    void imagesStopWhenTheWrittenPngFoolsEveryValidationVariant(@TempDir Path tmp) throws Exception {
        String models = "models=[{path=\"demo/models/tiny_a.pt\"}, {path=\"demo/models/ghost_b.pt\"},"
                + " {path=\"demo/models/tiny_b.pt\", role=validation,"
                + " defenses=[\"model\", \"jpeg(75) > model\"]}]";
        String[] common = {models, "dataset.limit=16", "attack.steps=10", "attack.eps=32"};
        Rounds.Result plain = Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), Rounds.with(common, "round.output=\"" + tmp.resolve("plain") + "\"")),
                "local[2]");
        Rounds.Result stop = Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), Rounds.with(common, "round.output=\"" + tmp.resolve("stop") + "\"",
                "attack.stop=validation", "attack.stop-every=2")), "local[2]");
        RoundConfig c = stop.config();
        Map<String, Row> before = plain.records().stream()
                .collect(Collectors.toMap(r -> r.<String>getAs("image_id"), Function.identity()));
        List<DefenseChain> chains = c.validation().get(0).defenses();
        List<BatchScorer.Variant> variants = chains.stream().map(d -> new BatchScorer.Variant(0, "tiny_b", d)).toList();
        int early = 0;
        TorchRuntime.start(2);
        try (Ensemble tinyB = Ensemble.load(List.of(Fixtures.bundle(Path.of("demo/models/tiny_b.pt").toAbsolutePath(), 1.0)));
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            BatchScorer judge = new BatchScorer(c.roundId(), c.dataset(), variants, io.advspark.data.Storage.of(new org.apache.hadoop.conf.Configuration()), tinyB);
            for (Row r : stop.records()) {
                String id = r.getAs("image_id");
                assertTrue(r.<String>getAs("attack_spec").contains(" stop=validation(every=2) validation=["),
                        r.<String>getAs("attack_spec"));
                int steps = r.<Integer>getAs("steps");
                if (steps == 10) {
                    assertEquals(before.get(id).<Long>getAs("png_crc32c"), r.<Long>getAs("png_crc32c"), id);
                    continue;
                }
                early++;
                assertTrue(r.<Boolean>getAs("untargeted_success"), id + " stopped but does not fool the surrogates");
                Path png = Path.of(java.net.URI.create(c.roundUri())).resolve(r.<String>getAs("output_file"));
                RgbImage written = Png.decode(Files.readAllBytes(png), png.toString());
                int[][] top1 = judge.top1(List.of(id), List.of(written), m);
                int label0 = r.<Integer>getAs("true_label") - c.dataset().labelBase();
                for (int v = 0; v < variants.size(); v++) {
                    assertTrue(top1[v][0] != label0, id + " stopped after " + steps + " steps but " + chains.get(v).spec()
                            + " still classifies its PNG correctly");
                }
            }
        }
        assertTrue(early > 0, "no image stopped early on the validation model");
        System.out.println("validation stop: " + early + " of 16 images stopped early");
    }
}
