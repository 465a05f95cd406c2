package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.plan.RoundConfig;
import io.advspark.testing.Python;
import io.advspark.testing.Rounds;
import io.advspark.testing.Shared;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code advspark evaluate --adv-images}: a folder written by the independent PyTorch reference
 * (MI-FGSM on tiny_a, eps 16, the demo images) is scored on tiny_c plain, behind jpeg(75) and
 * behind bits(4), by a round that lists no surrogate. Every image's top-1 agrees with the PyTorch
 * / PIL scoring of the same folder. The folder is also damaged the ways a submission is: one PNG
 * missing, one of another size, one that does not decode, one far over the budget, one file the
 * manifest does not name; each is listed or scored as an error row, none stops the evaluation,
 * and the over-budget image scores 0.
 */
class ForeignImagesTest {

    @Test
    void aFolderFromAnotherToolIsScoredAsThePythonReferenceScoresIt(@TempDir Path tmp) throws Exception {
        Path python = Shared.python();
        Path data = Path.of("demo/data").toAbsolutePath();
        Path ref = tmp.resolve("ref");
        Python.run(List.of("e2e", "--data", data.toString(), "--label-base", "0", "--model",
                Path.of("demo/models/tiny_a.pt").toAbsolutePath().toString(), "--eps", "16", "--steps", "10",
                "--limit", "24", "--threads", "2", "--out", ref.toString()), 600);
        Path pngs = ref.resolve("images");
        assertEquals(24, Files.list(pngs).count());
        List<String> ids = Files.list(pngs).map(p -> p.getFileName().toString()).sorted().toList();
        // The damage: missing, wrong size, undecodable, over budget, extra.
        String missing = ids.get(0);
        String small = ids.get(1);
        String garbage = ids.get(2);
        String loud = ids.get(3);
        Files.delete(pngs.resolve(missing));
        Files.write(pngs.resolve(small), Png.encode(new RgbImage(16, 16, new byte[16 * 16 * 3])));
        Files.write(pngs.resolve(garbage), new byte[] {1, 2, 3, 4});
        RgbImage clean = Png.decode(Files.readAllBytes(data.resolve("images").resolve(loud)), loud);
        byte[] px = clean.pixels().clone();
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) ((px[i] & 0xff) < 128 ? (px[i] & 0xff) + 100 : (px[i] & 0xff) - 100);
        }
        Files.write(pngs.resolve(loud), Png.encode(new RgbImage(clean.height(), clean.width(), px)));
        Files.write(pngs.resolve("not-in-manifest.png"), Files.readAllBytes(pngs.resolve(ids.get(5))));

        String[] defenses = {"model", "jpeg(75) > model", "bits(4) > model"};
        RoundConfig cfg = Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), "round.output=\"" + tmp.resolve("out") + "\"", "round.id=submission",
                "dataset.limit=24", "models=[{path=demo/models/tiny_c.pt, role=target, defenses=[\"model\","
                        + " \"jpeg(75) > model\", \"bits(4) > model\"]}]");
        EvaluationSummary s = evaluate(cfg, pngs);
        assertNotNull(s);
        System.out.println(s.render());

        SparkSession spark = SparkSession.builder().master("local[1]").appName("read").getOrCreate();
        try {
            List<Row> preds = spark.read().parquet(tmp.resolve("out/submission/predictions").toString()).collectAsList();
            assertEquals(24 * 3, preds.size(), "one row per manifest image and defended target");
            Map<String, Row> scores = new HashMap<>();
            spark.read().parquet(tmp.resolve("out/submission/scores").toString()).collectAsList()
                    .forEach(r -> scores.put(r.getAs("image_id"), r));
            assertEquals(0.0, scores.get(loud).<Double>getAs("score"), loud + " is over the budget");
            assertTrue(scores.get(loud).<Integer>getAs("linf") > 32);
            for (String bad : List.of(missing, small, garbage)) {
                for (Row p : preds) {
                    if (p.getAs("image_id").equals(bad)) {
                        assertNotNull(p.getAs("error"), bad + " should be an error row");
                    }
                }
            }
            assertTrue(preds.stream().noneMatch(p -> p.getAs("image_id").equals("not-in-manifest.png")));
            assertTrue(preds.stream().allMatch(p -> p.getAs("attack").equals("external")));

            // Independent scoring of the same folder: PIL decode (+ PIL JPEG / numpy bits), PyTorch.
            String[] ref0 = {"none", "jpeg:75", "bits:4"};
            Path json = tmp.resolve("ref.json");
            Files.delete(pngs.resolve(small)); // the reference reads every manifest PNG it finds
            Files.delete(pngs.resolve(garbage));
            Python.run(Path.of("src/test/python/reference_evaluate.py").toAbsolutePath(),
                    List.of("--data", data.toString(), "--pngs", pngs.toString(), "--model",
                            Path.of("demo/models/tiny_c.pt").toAbsolutePath().toString(), "--defense", String.join(",", ref0),
                            "--out", json.toString()), 600);
            JsonNode refs = new ObjectMapper().readTree(json.toFile());
            int compared = 0;
            for (int d = 0; d < 3; d++) {
                JsonNode r = refs.get(ref0[d]);
                for (Row p : preds) {
                    if (!p.getAs("defense").equals(defenses[d].equals("model") ? "model" : canonical(defenses[d]))) {
                        continue;
                    }
                    JsonNode want = r.get(p.<String>getAs("image_id"));
                    if (want == null) {
                        continue; // missing, wrong size or undecodable: error rows above
                    }
                    assertNull(p.getAs("error"), p.<String>getAs("image_id"));
                    assertEquals(want.get(0).asInt(), (int) p.<Integer>getAs("clean_top1"), p.getAs("image_id") + " clean");
                    assertEquals(want.get(1).asInt(), (int) p.<Integer>getAs("adv_top1"),
                            p.getAs("image_id") + " behind " + defenses[d]);
                    compared++;
                }
            }
            assertEquals(3 * 21, compared, "every readable image on every defended target");
        } finally {
            spark.stop();
        }
        assertNotNull(python);
    }

    private static String canonical(String chain) {
        return io.advspark.defense.DefenseChain.parse(chain).spec();
    }

    private static EvaluationSummary evaluate(RoundConfig cfg, Path pngs) {
        RoundConfig c = io.advspark.cli.Main.withThreads(cfg, 2);
        SparkSession spark = Sessions.create(c, "local[2]");
        try {
            return EvaluateJob.run(c, spark, false, new EvaluateJob.Foreign(pngs.toUri().toString(), "external"));
        } finally {
            spark.stop();
            SparkSession.clearActiveSession();
            SparkSession.clearDefaultSession();
        }
    }
}
