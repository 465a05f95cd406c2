package io.advspark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.Rounds;
import io.advspark.testing.Scripts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The budget search survives a killed driver: the demo round with a five-budget ladder is killed
 * with SIGKILL once its second wave has committed attempts, then rerun. The rerun skips every
 * committed (image, budget) attempt; the round ends with exactly one search row and PNG per image,
 * and those PNGs and rows equal, byte for byte, an uninterrupted search's. Demo data: runs on a
 * fresh clone.
 */
class SearchResumeIT {
    private static final int IMAGES = 48;

    private static List<String> command(Path out) {
        return List.of("jobs/advspark", "attack", "-c", "src/test/resources/tiny-round.conf", "--set", "round.output=\"" + out + "\"", "--set", "round.id=search",
                "--set", "models=[{path=\"demo/models/tiny_a.pt\"}, {path=\"demo/models/ghost_b.pt\"}]",
                "--set", "attack.search.eps=[1, 2, 4, 8, 16, 32]", "--set", "attack.search.until=surrogates",
                "--set", "batch-size=4", "--set", "threads=1");
    }


    @Test
    void aKilledSearchResumesItsAttemptsAndEndsAsAnUninterruptedOne(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        Path records = out.resolve("search/records");
        Path log = tmp.resolve("first.log");
        Process first = Scripts.start(command(out), Map.of(), log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        // Killed in the second wave: eps 1 done for every image, some eps 2 attempts committed.
        while (Rounds.committedParts(records.resolve("attack=main.eps2")) < 2 && first.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(first.isAlive(), "the round ended before it could be killed:\n" + Files.readString(log));
        first.destroyForcibly();
        assertTrue(first.waitFor(60, TimeUnit.SECONDS));
        long eps1 = Rounds.committedParts(records.resolve("attack=main.eps1"));
        assertEquals(IMAGES / 4, eps1, "the first wave had committed every image's eps-1 attempt");
        assertEquals(0, Rounds.committedParts(records.resolve("attack=main")), "no image can be decided before its eps-2 attempt");

        String rerun = Scripts.run(command(out), Map.of(), Duration.ofMinutes(10), 0);
        Matcher m = Pattern.compile("(\\d+) \\(image, attack\\) pairs committed by an earlier run are skipped").matcher(rerun);
        assertTrue(m.find(), "the rerun did not resume:\n" + rerun);
        assertTrue(Integer.parseInt(m.group(1)) >= IMAGES + 8, "skipped " + m.group(1));
        assertTrue(!rerun.contains("wave 1: " + IMAGES + " (image, attack) pairs"), "the rerun redid the first wave:\n" + rerun);

        Path straight = tmp.resolve("straight");
        Scripts.run(command(straight), Map.of(), Duration.ofMinutes(10), 0);

        SparkSession spark = SparkSession.builder().master("local[1]").appName("search-resume-check")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false").getOrCreate();
        try {
            List<Row> a = spark.read().parquet(records.toString()).where("attack = 'main'").orderBy("image_id").collectAsList();
            List<Row> b = spark.read().parquet(straight.resolve("search/records").toString()).where("attack = 'main'")
                    .orderBy("image_id").collectAsList();
            assertEquals(IMAGES, a.size(), "search rows");
            Set<String> ids = new HashSet<>();
            for (int i = 0; i < IMAGES; i++) {
                String id = a.get(i).getAs("image_id");
                assertTrue(ids.add(id), "duplicate search row " + id);
                for (String c : List.of("image_id", "eps", "search", "search_steps", "met", "png_crc32c", "png_bytes",
                        "linf", "l2", "adv_pred", "steps")) {
                    assertEquals(String.valueOf((Object) b.get(i).getAs(c)), String.valueOf((Object) a.get(i).getAs(c)),
                            id + ": " + c);
                }
                assertArrayEquals(Files.readAllBytes(straight.resolve("search/images/main").resolve(id)),
                        Files.readAllBytes(out.resolve("search/images/main").resolve(id)), id);
            }
        } finally {
            spark.stop();
        }
    }
}
