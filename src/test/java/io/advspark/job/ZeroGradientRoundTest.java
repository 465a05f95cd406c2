package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.Rounds;
import java.nio.file.Path;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Images whose gradient is zero are counted per image and reported: a loss with both weights 0 is
 * flat, so every step's gradient is zero and every image is written unchanged; the records say
 * so, and the summary warns instead of printing only its maximum L-inf.
 */
class ZeroGradientRoundTest {

    @Test
    void aFlatLossIsReportedPerImageAndInTheSummary(@TempDir Path tmp) {
        Rounds.Result flat = Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), "round.output=\"" + tmp.resolve("flat") + "\"",
                "dataset.limit=8", "attack.steps=3", "attack.loss=\"ce(untargeted=0, targeted=0)\""), "local[2]");
        assertEquals(8, flat.records().size());
        for (Row r : flat.records()) {
            assertEquals(3, r.<Integer>getAs("zero_gradient_steps"));
            assertEquals(0, r.<Integer>getAs("linf"));
        }
        RoundSummary.Line line = flat.summary().attacks().get(0);
        assertEquals(8, line.zeroGradientImages());
        assertEquals(8, line.unchanged());
        assertTrue(flat.summary().render().contains("8 images had an all-zero gradient at some step"),
                flat.summary().render());

        Rounds.Result plain = Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), "round.output=\"" + tmp.resolve("plain") + "\"",
                "dataset.limit=8", "attack.steps=3"), "local[2]");
        for (Row r : plain.records()) {
            assertEquals(0, r.<Integer>getAs("zero_gradient_steps"));
        }
        assertFalse(plain.summary().render().contains("warning"), plain.summary().render());
    }
}
