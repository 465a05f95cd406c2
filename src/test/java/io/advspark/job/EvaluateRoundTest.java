package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.advspark.plan.RoundConfig;
import io.advspark.score.Outcome;
import io.advspark.score.Scoring;
import io.advspark.score.Wilson;
import io.advspark.testing.Python;
import io.advspark.testing.Rounds;
import io.advspark.testing.Shared;
import io.advspark.vocabulary.ConfigException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code advspark evaluate} on the demo set: tiny_a + tiny_b attacked, tiny_c held out and scored
 * plain and behind defenses; tables checked against each other, against the scoring presets
 * and against an independent PyTorch/PIL prediction of the same PNGs.
 */
class EvaluateRoundTest {
    static final String DEFENSES = "[\"model\", \"jpeg(75) > model\", \"bits(4)\", \"rp\", \"median(3) > blur(0.8)\"]";

    @Test
    void demoRoundScoredOnDefendedTarget(@TempDir Path out) throws Exception {
        RoundConfig cfg = Rounds.config(Rounds.TINY.getPath(), "round.output=\"" + out + "\"", "round.id=eval",
                "models=[{path=demo/models/tiny_a.pt},{path=demo/models/tiny_b.pt},"
                        + "{path=demo/models/tiny_c.pt, role=target, defenses=" + DEFENSES + "}]");
        Rounds.run(cfg, "local[2]");
        int loads = io.advspark.model.ModelCache.loadCount();
        EvaluationSummary s = Rounds.evaluate(cfg, "local[2]");
        assertEquals(loads + 1, io.advspark.model.ModelCache.loadCount(),
                "the target is loaded once in this JVM for both passes and all defenses");
        System.out.println(s.render());
        assertEquals(5, s.rows().size(), "one summary row per defended target");

        SparkSession spark = SparkSession.builder().master("local[1]").appName("read").getOrCreate();
        try {
            String round = out.resolve("eval").toString();
            List<Row> preds = spark.read().parquet(round + "/predictions").collectAsList();
            List<Row> scores = spark.read().parquet(round + "/scores").collectAsList();
            List<Row> records = spark.read().parquet(round + "/records").collectAsList();
            assertEquals(48 * 5, preds.size(), "one row per (attack, image, defended target)");
            assertEquals(48, scores.size(), "one row per (attack, image)");
            Map<String, Row> rec = new HashMap<>();
            records.forEach(r -> rec.put(r.getAs("image_id"), r));
            Scoring tianchi = Scoring.parse("tianchi2019");
            Map<String, List<Double>> perImage = new HashMap<>();
            for (Row p : preds) {
                assertNull(p.getAs("error"));
                Row r = rec.get(p.<String>getAs("image_id"));
                assertEquals(r.<String>getAs("attack_spec"), p.getAs("attack_spec"));
                assertEquals((int) r.getAs("linf"), (int) p.getAs("linf"), "linf of the written PNG");
                int y = p.getAs("true_label");
                int t = p.getAs("target_label");
                int adv = p.getAs("adv_top1");
                assertEquals(adv != y, p.getAs("untargeted_success"));
                assertEquals(adv == t, p.getAs("targeted_success"));
                assertEquals(p.<Integer>getAs("clean_top1") == y, p.getAs("clean_correct"));
                assertEquals(5, p.getList(p.fieldIndex("adv_top5")).size());
                assertEquals(adv, (int) p.getList(p.fieldIndex("adv_top5")).get(0));
                double sc = tianchi.perTarget(new Outcome(y, t, adv, p.getAs("linf")));
                assertEquals(sc, (double) p.getAs("score"), 1e-12);
                perImage.computeIfAbsent(p.getAs("image_id"), k -> new ArrayList<>()).add(sc);
            }
            for (Row sr : scores) {
                List<Double> v = perImage.get(sr.<String>getAs("image_id"));
                assertEquals(v.stream().mapToDouble(d -> d).average().orElseThrow(), (double) sr.getAs("score"), 1e-12);
                assertEquals(5, (int) sr.getAs("targets"));
                assertEquals((double) rec.get(sr.<String>getAs("image_id")).getAs("l2"), (double) sr.getAs("l2"), 1e-9);
                assertTrue((double) sr.getAs("psnr") > 20, "PSNR of an eps-8 perturbation");
            }
            double mean = scores.stream().mapToDouble(r -> r.<Double>getAs("score")).average().orElseThrow();
            assertEquals(mean, s.roundScores().values().iterator().next(), 1e-12, "the round's score");
            // summary rates and intervals from the predictions
            for (Row sum : s.rows()) {
                String defense = EvaluationSummary.str(sum, "defense");
                List<Row> mine = preds.stream().filter(p -> p.getAs("defense").equals(defense)).toList();
                long n = mine.size();
                long unt = mine.stream().filter(p -> p.<Boolean>getAs("untargeted_success")).count();
                long correct = mine.stream().filter(p -> p.<Boolean>getAs("clean_correct")).count();
                long untC = mine.stream().filter(p -> p.<Boolean>getAs("clean_correct") && p.<Boolean>getAs("untargeted_success")).count();
                assertEquals(48, n);
                assertEquals((double) correct / n, EvaluationSummary.dbl(sum, "clean_correct_rate"), 1e-12);
                assertEquals((double) unt / n, EvaluationSummary.dbl(sum, "untargeted_success_rate"), 1e-12);
                assertEquals(Wilson.interval(unt, n).low(), EvaluationSummary.dbl(sum, "untargeted_success_rate_low"), 1e-12);
                assertEquals((double) untC / correct, EvaluationSummary.dbl(sum, "untargeted_success_rate_on_correct"), 1e-12);
                assertEquals(mine.stream().mapToDouble(p -> p.<Double>getAs("score")).average().orElseThrow(),
                        EvaluationSummary.dbl(sum, "mean_score"), 1e-12);
            }
            // The defense chain structured beside its string (stage names and parameters in order,
            // empty for the undefended target), in the summary and the predictions; the attack's
            // eps and steps in the summary.
            io.advspark.plan.AttackConfig attack = cfg.attacks().get(0).config();
            for (Row sum : s.rows()) {
                String defense = EvaluationSummary.str(sum, "defense");
                assertEquals(defense, chain(java.util.Arrays.asList((String[]) EvaluationSummary.get(sum, "defense_names")),
                        java.util.Arrays.asList((String[]) EvaluationSummary.get(sum, "defense_params"))));
                assertEquals(attack.epsPixels(), EvaluationSummary.dbl(sum, "eps"));
                assertEquals(attack.steps(), EvaluationSummary.get(sum, "steps"));
            }
            assertEquals(0, ((String[]) EvaluationSummary.get(s.row("tiny_c", "model"), "defense_names")).length);
            for (Row p : preds) {
                assertEquals(p.<String>getAs("defense"), chain(p.getList(p.fieldIndex("defense_names")),
                        p.getList(p.fieldIndex("defense_params"))));
            }
            // ... and as the Spark-free reader of `advspark report` reads them back.
            for (Map<String, Object> r : io.advspark.round.ParquetRows.read(io.advspark.data.Storage.of(
                    spark.sparkContext().hadoopConfiguration()), spark.sparkContext().hadoopConfiguration(),
                    out.resolve("eval/summary").toUri().toString())) {
                assertEquals(r.get("defense"), chain((List<?>) r.get("defense_names"), (List<?>) r.get("defense_params")), r.toString());
                assertEquals(attack.steps(), r.get("steps"));
            }
            assertTrue(EvaluationSummary.dbl(s.row("tiny_c", "model"), "clean_correct_rate") > 0.8, "tiny_c's clean accuracy on the demo set");

            // advspark report --metric untargeted-on-correct --intervals --markdown, from the tables.
            String md = ReportJob.run(spark, out.resolve("eval").toUri().toString(),
                    io.advspark.score.Leaderboard.Metric.UNTARGETED_ON_CORRECT, true, true);
            System.out.println(md);
            Row plain = s.row("tiny_c", "model");
            String cell = String.format(java.util.Locale.ROOT, "%.1f [%.1f, %.1f]", 100 * EvaluationSummary.dbl(plain, "untargeted_success_rate_on_correct"),
                    100 * EvaluationSummary.dbl(plain, "untargeted_success_rate_on_correct_low"),
                    100 * EvaluationSummary.dbl(plain, "untargeted_success_rate_on_correct_high"));
            double ms = records.stream().filter(r -> r.getAs("error") == null)
                    .mapToLong(r -> r.<Long>getAs("wall_ms")).average().orElseThrow();
            String line = md.lines().filter(l -> l.startsWith("| 1 | main |")).findFirst().orElseThrow(() -> new AssertionError(md));
            assertTrue(line.contains("| " + cell + " |"), "the plain target's on-correct rate and interval " + cell + ":\n" + md);
            assertTrue(line.endsWith(String.format(java.util.Locale.ROOT, "| %.0f |", ms)), "mean wall ms per image " + ms + ":\n" + md);
            assertTrue(md.contains(String.format(java.util.Locale.ROOT, "| %d |", EvaluationSummary.count(plain, "clean_correct_count"))), "clean-correct count:\n" + md);

            // Independent check: PIL decode (+ PIL JPEG / numpy bits), PyTorch prediction.
            Shared.python();
            {
                Path data = Path.of("demo/data").toAbsolutePath();
                Path json = out.resolve("ref.json");
                Python.run(Path.of("src/test/python/reference_evaluate.py").toAbsolutePath(),
                        List.of("--data", data.toString(), "--pngs", out.resolve("eval/images/main").toString(), "--model",
                                Path.of("demo/models/tiny_c.pt").toAbsolutePath().toString(), "--defense", "none,jpeg:75,bits:4",
                                "--out", json.toString()), 600);
                JsonNode refs = new ObjectMapper().readTree(json.toFile());
                for (String[] d : new String[][] {{"none", "model"}, {"jpeg:75", "jpeg(quality=75) > model"},
                        {"bits:4", "bits(bits=4) > model"}}) {
                    JsonNode ref = refs.get(d[0]);
                    int disagree = 0;
                    for (Row p : preds) {
                        if (!p.getAs("defense").equals(d[1])) {
                            continue;
                        }
                        JsonNode r = ref.get(p.<String>getAs("image_id"));
                        if (r.get(0).asInt() != (int) p.getAs("clean_top1") || r.get(1).asInt() != (int) p.getAs("adv_top1")) {
                            disagree++;
                        }
                    }
                    System.out.println("evaluate reference " + d[0] + ": " + disagree + " of 48 images disagree");
                    assertTrue(disagree <= (d[0].startsWith("jpeg") ? 1 : 0), d[0] + ": " + disagree + " images disagree");
                }
            }
        } finally {
            spark.stop();
        }
    }

    @Test
    void badDefensesFailAtLoad() {
        ConfigException e = assertThrows(ConfigException.class, () -> Rounds.config(Rounds.TINY.getPath(),
                "models=[{path=demo/models/tiny_a.pt},{path=demo/models/tiny_c.pt, role=target, defenses=[\"jpeg(150) > model\"]}]"));
        assertTrue(e.getMessage().contains("advspark.models[1].defenses") && e.getMessage().contains("jpeg(150)"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> Rounds.config(Rounds.TINY.getPath(),
                "models=[{path=demo/models/tiny_a.pt},{path=demo/models/tiny_c.pt, role=target, defenses=[\"squeeze(2)\"]}]"));
        assertTrue(e.getMessage().contains("squeeze"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> Rounds.config(Rounds.TINY.getPath(),
                "models=[{path=demo/models/tiny_a.pt, defenses=[\"bits(4)\"]}]"));
        assertTrue(e.getMessage().contains("role = target"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> Rounds.config(Rounds.TINY.getPath(), "evaluate.score=\"tianchi(2)\""));
        assertTrue(e.getMessage().contains("evaluate.score"), e.getMessage());
    }

    /** The canonical chain {@code name(params) > ... > model} of the structured columns. */
    private static String chain(List<?> names, List<?> params) {
        assertEquals(names.size(), params.size());
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < names.size(); i++) {
            b.append(names.get(i)).append(params.get(i) == null ? "" : "(" + params.get(i) + ")").append(" > ");
        }
        return b.append("model").toString();
    }
}
