package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.Rounds;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code attack.stop = "surrogates"} on the demo round: an image stops once its quantised iterate
 * fools the surrogate ensemble, and its PNG is that image (it is a white-box success); an image
 * that never did runs every step and is written byte for byte as without early exit; so the
 * white-box success rate cannot drop. The records say the steps each image ran and its checks,
 * and the round's identity names the rule.
 */
class EarlyExitRoundTest {

    @Test
    void stoppedImagesAreSuccessesAndTheOthersAreUnchanged(@TempDir Path tmp) {
        String[] common = {"dataset.limit=16", "attack.steps=10"};
        Rounds.Result plain = Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), Rounds.with(common, "round.output=\"" + tmp.resolve("plain") + "\"")),
                "local[2]");
        Rounds.Result stop = Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), Rounds.with(common, "round.output=\"" + tmp.resolve("stop") + "\"",
                "attack.stop=surrogates", "attack.stop-every=2")), "local[2]");
        assertEquals(16, stop.records().size());
        Map<String, Row> before = plain.records().stream()
                .collect(Collectors.toMap(r -> r.<String>getAs("image_id"), Function.identity()));
        int early = 0;
        for (Row r : stop.records()) {
            String id = r.getAs("image_id");
            int steps = r.<Integer>getAs("steps");
            assertTrue(r.<String>getAs("attack_spec").endsWith(" stop=surrogates(every=2)"), r.<String>getAs("attack_spec"));
            assertEquals(8.0, r.<Double>getAs("eps"));
            assertTrue(r.<Integer>getAs("linf") <= 8, id);
            // Checked after steps 2, 4, 6 and 8 while running: a stopped image took part in steps / 2 checks.
            assertEquals(steps == 10 ? 4 : steps / 2, r.<Integer>getAs("stop_checks"), id);
            if (steps < 10) {
                early++;
                assertTrue(r.<Boolean>getAs("untargeted_success"), id + " stopped after " + steps + " steps but is no success");
            } else {
                assertEquals(before.get(id).<Long>getAs("png_crc32c"), r.<Long>getAs("png_crc32c"),
                        id + " ran every step but its PNG differs from the round without early exit");
            }
            assertEquals(10, before.get(id).<Integer>getAs("steps"));
            assertEquals(0, before.get(id).<Integer>getAs("stop_checks"));
        }
        assertTrue(early > 0, "no image stopped early");
        long plainOk = plain.records().stream().filter(r -> r.<Boolean>getAs("untargeted_success")).count();
        long stopOk = stop.records().stream().filter(r -> r.<Boolean>getAs("untargeted_success")).count();
        assertTrue(stopOk >= plainOk, "white-box success dropped with early exit: " + stopOk + " < " + plainOk);
        assertTrue(!plain.records().get(0).<String>getAs("attack_spec").contains("stop="));
        String rendered = stop.summary().render();
        double steps = stop.records().stream().mapToInt(r -> r.<Integer>getAs("steps")).average().orElseThrow();
        // On the surrogates, met is the white-box success of the written PNG.
        assertTrue(rendered.contains(String.format(java.util.Locale.ROOT, "score-aware  main: %.1f%% met the objective"
                + " on the stopping set; mean budget 8.0 (0..255); %.1f steps per image", 100.0 * stopOk / 16, steps)),
                rendered);
        assertTrue(!plain.summary().render().contains("score-aware"), plain.summary().render());
    }
}
