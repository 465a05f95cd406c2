package io.advspark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.score.Perturbation;
import io.advspark.testing.Rounds;
import io.advspark.testing.Scripts;
import io.advspark.testing.Shared;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The resume test: the driver of a local-Spark round (three attack configs, ../shared
 * CIFAR-10 images, targets evaluated) is killed with SIGKILL mid-round, then the same command is
 * rerun. The rerun skips what was committed; the final tables hold exactly one row per expected
 * key, every PNG decodes and respects eps, and the PNGs equal, byte for byte, those of an
 * uninterrupted run of the same round.
 */
class ResumeIT {
    private static final int IMAGES = 96;
    private static final List<String> ATTACKS = List.of("mi-eps8", "mi-di-eps8", "mi-di-ti-eps8");

    private static List<String> command(Path out, String roundId) {
        return List.of("jobs/advspark", "attack", "-c", "conf/cifar10-ablation.conf",
                "--set", "round.output=\"" + out + "\"", "--set", "round.id=" + roundId, "--set", "grid.eps=[8]",
                "--set", "dataset.limit=" + IMAGES, "--set", "batch-size=8", "--set", "threads=1");
    }

    private static String run(List<String> cmd) throws Exception {
        return Scripts.run(cmd, Map.of(), Duration.ofMinutes(15), 0);
    }


    @Test
    void aKilledRoundResumesToTheSameTables(@TempDir Path tmp) throws Exception {
        Path shared = Shared.root();
        Path out = tmp.resolve("out");
        Path round = out.resolve("killed");
        Path log = tmp.resolve("first.log");
        int totalBatches = ATTACKS.size() * IMAGES / 8;

        Process first = Scripts.start(command(out, "killed"), Map.of(), log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(600);
        while (Rounds.committedParts(round.resolve("records")) < 6 && first.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(first.isAlive(), "the round ended before it could be killed:\n" + Files.readString(log));
        first.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup
        assertTrue(first.waitFor(60, TimeUnit.SECONDS));
        long committed = Rounds.committedParts(round.resolve("records"));
        assertTrue(committed >= 6 && committed < totalBatches, "committed batches at the kill: " + committed);

        String rerun = run(command(out, "killed"));
        Matcher m = Pattern.compile("(\\d+) \\(image, attack\\) pairs committed by an earlier run are skipped").matcher(rerun);
        assertTrue(m.find(), "the rerun did not resume:\n" + rerun);
        int skipped = Integer.parseInt(m.group(1));
        assertTrue(skipped >= 6 * 8 && skipped < ATTACKS.size() * IMAGES, "skipped " + skipped);
        assertTrue(rerun.contains("advspark evaluation finished"), rerun);

        // Same round id (it seeds the random parts), another output root.
        Path straight = tmp.resolve("straight-out");
        run(command(straight, "killed"));

        SparkSession spark = SparkSession.builder().master("local[1]").appName("resume-check")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false").getOrCreate();
        try {
            for (String table : List.of("records", "predictions", "scores")) {
                List<Row> rows = spark.read().parquet(round.resolve(table).toString()).collectAsList();
                Set<String> keys = new HashSet<>();
                for (Row r : rows) {
                    String key = r.getAs("attack") + "/" + r.getAs("image_id")
                            + (table.equals("predictions") ? "/" + r.getAs("target") + "/" + r.getAs("defense") : "");
                    assertTrue(keys.add(key), table + ": duplicate row " + key);
                    if (table.equals("records")) {
                        assertTrue(r.isNullAt(r.fieldIndex("error")), key + ": " + r.getAs("error"));
                    }
                }
                int perImage = table.equals("predictions") ? 4 : 1; // resnet56 x 3 defenses + resnet4b
                assertEquals(ATTACKS.size() * IMAGES * perImage, rows.size(), table + ": rows");
            }
            List<Row> a = spark.read().parquet(round.resolve("summary").toString())
                    .orderBy("attack", "target", "defense").collectAsList();
            List<Row> b = spark.read().parquet(straight.resolve("killed/summary").toString())
                    .orderBy("attack", "target", "defense").collectAsList();
            assertEquals(b.size(), a.size());
            for (int i = 0; i < a.size(); i++) {
                for (String c : List.of("attack", "target", "defense", "image_count", "untargeted_success_rate",
                        "targeted_success_rate", "mean_score")) {
                    assertEquals(String.valueOf((Object) b.get(i).getAs(c)), String.valueOf((Object) a.get(i).getAs(c)), "summary " + c + " of row " + i);
                }
            }
        } finally {
            spark.stop();
        }

        Path clean = shared.resolve("data/cifar10-300/images");
        List<String> ids = new ArrayList<>();
        for (String attack : ATTACKS) {
            try (Stream<Path> s = Files.list(round.resolve("images").resolve(attack))) {
                List<Path> pngs = s.toList();
                assertEquals(IMAGES, pngs.size(), attack + ": PNGs");
                for (Path p : pngs) {
                    String id = p.getFileName().toString();
                    assertFalse(id.startsWith("."), "temporary file left: " + p);
                    RgbImage adv = Png.decode(Files.readAllBytes(p), p.toString());
                    RgbImage orig = Png.decode(Files.readAllBytes(clean.resolve(id)), id);
                    assertTrue(Perturbation.between(orig, adv).linf() <= 8, p + " exceeds eps");
                    assertArrayEquals(Files.readAllBytes(straight.resolve("killed/images").resolve(attack).resolve(id)),
                            Files.readAllBytes(p), p + " differs from the uninterrupted run");
                    ids.add(id);
                }
            }
        }
        assertEquals(ATTACKS.size() * IMAGES, ids.size());
    }
}
