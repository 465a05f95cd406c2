package io.advspark.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.Rounds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The byte-equality check of refactorings: two runs of one demo round under two output roots
 * compare equal; a changed PNG byte and a changed table row are both reported.
 */
class RoundDiffTest {
    @Test
    void twoRunsOfOneRoundAreEqualAndAChangeIsFound(@TempDir Path tmp) throws Exception {
        for (String out : List.of("a", "b")) {
            Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), "round.output=\"" + tmp.resolve(out) + "\"", "round.id=r", "dataset.limit=8",
                    "attack.steps=2", "threads=1"), "local[1]");
        }
        // A round of another eps: its attacks table and records differ.
        Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), "round.output=\"" + tmp.resolve("c") + "\"", "round.id=r", "dataset.limit=8",
                "attack.steps=2", "attack.eps=4", "threads=1"), "local[1]");
        Path a = tmp.resolve("a/r");
        Path b = tmp.resolve("b/r");
        SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false")
                .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false").getOrCreate();
        try {
            assertEquals(List.of(), RoundDiff.diff(spark, a, b));

            Path png = b.resolve("images/main/0003.png");
            byte[] bytes = Files.readAllBytes(png);
            bytes[bytes.length / 2] ^= 1;
            Files.write(png, bytes);
            List<String> d = RoundDiff.diff(spark, a, b);
            assertEquals(1, d.size(), d.toString());
            assertTrue(d.get(0).startsWith("PNG main/0003.png differs"), d.toString());

            d = RoundDiff.diff(spark, a, tmp.resolve("c/r"));
            assertTrue(d.stream().anyMatch(x -> x.startsWith("table attacks: 1 vs 1 rows")), d.toString());
            assertTrue(d.stream().anyMatch(x -> x.startsWith("table records:")), d.toString());
        } finally {
            spark.stop();
            SparkSession.clearActiveSession();
            SparkSession.clearDefaultSession();
        }
    }
}
