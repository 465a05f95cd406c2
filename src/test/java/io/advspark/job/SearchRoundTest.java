package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.plan.ScoreAware;
import io.advspark.score.Perturbation;
import io.advspark.testing.Fixtures;
import io.advspark.testing.Rounds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code attack.search} on the demo round (surrogates tiny_a and ghost_b, MI-FGSM, 10 steps):
 * every image gets exactly one row and PNG under the attack's name, the PNG of the budget the walk
 * kept (the smallest attempted whose PNG met the objective on the stopping set, or the largest),
 * within that budget; the attempts walked are those the walk asks for, in its order, and no others;
 * an attempt at eps e writes what a fixed-eps attack at e writes (MI-FGSM from zeros draws nothing);
 * a rerun of the finished round does nothing.
 */
class SearchRoundTest {
    private static final List<Double> BUDGETS = List.of(2.0, 4.0, 8.0, 16.0, 32.0);
    private static final String MODELS = "models=[{path=\"demo/models/tiny_a.pt\"}, {path=\"demo/models/ghost_b.pt\"},"
            + " {path=\"demo/models/tiny_b.pt\", role=validation, defenses=[\"model\", \"jpeg(75) > model\"]}]";

    @Test
    void laddersAndBisectionsKeepTheSmallestBudgetThatFools(@TempDir Path tmp) throws Exception {
        // One round, three attacks: a ladder on the validation model, a bisection on the
        // surrogates, and the fixed-eps attack at 8 that the ladder's eps-8 attempts must equal.
        Rounds.Result r = Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), MODELS, "round.output=\"" + tmp.resolve("out") + "\"",
                "dataset.limit=16", "attacks=[{name=main, search={eps=[2, 4, 8, 16, 32], until=validation}},"
                        + " {name=bis, search={eps=[2, 4, 8, 16, 32], until=surrogates, mode=bisect}}, {name=fixed8, eps=8}]"),
                "local[2]");
        // The summary read straight from the record files gives the Spark query's figures.
        org.apache.spark.sql.SparkSession spark = org.apache.spark.sql.SparkSession.builder().master("local[1]")
                .appName("summary").getOrCreate();
        try {
            String records = r.config().roundUri() + "/records";
            List<String> names = List.of("main", "bis", "fixed8", "main.eps8", "nothing-here");
            assertEquals(rounded(AttackJob.summaryLinesSpark(spark, records, names)),
                    rounded(AttackJob.summaryLinesDirect(spark.sparkContext().hadoopConfiguration(), records, names)));
        } finally {
            spark.stop();
        }
        Map<Double, Integer> kept = check(r, "main", ScoreAware.Mode.LADDER);
        assertTrue(kept.size() > 1, "every image kept the same budget: " + kept);
        check(r, "bis", ScoreAware.Mode.BISECT);

        // An attempt is the attack at its budget: the fixed-eps attack at 8 writes the same PNGs.
        Map<String, Long> fixedCrc = new HashMap<>();
        attempts(r, "fixed8").forEach(x -> fixedCrc.put(x.getAs("image_id"), x.getAs("png_crc32c")));
        assertEquals(16, fixedCrc.size());
        int compared = 0;
        for (Row a : attempts(r, "main.eps8")) {
            assertEquals(fixedCrc.get(a.<String>getAs("image_id")), a.<Long>getAs("png_crc32c"), a.<String>getAs("image_id"));
            compared++;
        }
        assertTrue(compared > 0, "no image was attempted at eps 8");

        // One attack job per wave; the summary counts the tasks of every wave, not the last one's.
        int waves = r.records().stream().filter(x -> x.<String>getAs("attack").equals("main"))
                .mapToInt(x -> x.<String>getAs("search").split(",").length).max().orElseThrow();
        assertTrue(waves >= 3, "the walks took " + waves + " attempts at most");
        assertTrue(r.summary().timings().attempts().tasks() >= waves + 1,
                "tasks of all waves (wave 1 has two slots): " + r.summary().timings().attempts());

        // Finished: a rerun commits nothing new.
        Rounds.Result again = Rounds.run(r.config(), "local[2]");
        assertEquals(r.records().size(), again.records().size());
    }

    @Test
    void aSearchEndsWhenImagesCannotBeReadAndTheirErrorsAreRows(@TempDir Path tmp) throws Exception {
        Path data = Fixtures.demoDataCopy(tmp);
        Files.delete(data.resolve("images/0002.png"));
        String csv = Files.readString(data.resolve("dev.csv")).replace("0005.png,5,", "0005.png,99,");
        Files.writeString(data.resolve("dev.csv"), csv);
        Rounds.Result r = Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), MODELS, "round.output=\"" + tmp.resolve("out") + "\"",
                "dataset.uri=\"" + data + "\"", "dataset.limit=8", "attack.search.eps=[2, 4, 8, 16, 32]",
                "attack.search.until=surrogates"), "local[2]");
        List<Row> finals = r.records().stream().filter(x -> x.<String>getAs("attack").equals("main")).toList();
        assertEquals(6, finals.size(), "a search row for each readable image");
        assertTrue(finals.stream().noneMatch(x -> List.of("0002.png", "0005.png").contains(x.<String>getAs("image_id"))));
        for (String bad : List.of("0002.png", "0005.png")) {
            Row e = attempt(r, "main.eps2", bad);
            assertTrue(e != null && e.getAs("error") != null, bad + ": its error row is under the first attempt");
            assertEquals(1, r.records().stream().filter(x -> x.<String>getAs("image_id").equals(bad)).count(), bad);
        }
    }

    /** The search's rows against its attempts; returns how many images kept each budget. */
    private static Map<Double, Integer> check(Rounds.Result r, String name, ScoreAware.Mode mode) throws Exception {
        List<Row> finals = attempts(r, name);
        assertEquals(16, finals.size(), "one search row per image");
        assertEquals(16, finals.stream().map(x -> x.<String>getAs("image_id")).distinct().count());
        Map<Double, Integer> kept = new HashMap<>();
        Path round = Path.of(java.net.URI.create(r.config().roundUri()));
        for (Row f : finals) {
            String id = f.getAs("image_id");
            Boolean[] met = new Boolean[BUDGETS.size()];
            int steps = 0;
            for (int i = 0; i < BUDGETS.size(); i++) {
                Row a = attempt(r, ScoreAware.attemptName(name, BUDGETS.get(i)), id);
                if (a != null) {
                    met[i] = a.getAs("met");
                    steps += a.<Integer>getAs("steps");
                }
            }
            // The attempts are exactly the walk's, in its order.
            Boolean[] seen = new Boolean[met.length];
            StringBuilder walk = new StringBuilder();
            ScoreAware.Walk w;
            while (!(w = ScoreAware.walk(mode, 0, seen)).decided()) {
                assertTrue(met[w.next()] != null, id + ": the walk needs eps " + BUDGETS.get(w.next()) + ", never attempted");
                seen[w.next()] = met[w.next()];
                walk.append(walk.length() == 0 ? "" : ",").append(ScoreAware.attemptLabel(BUDGETS.get(w.next())))
                        .append(':').append(met[w.next()] ? 1 : 0);
            }
            assertTrue(Arrays.equals(seen, met), id + ": attempts outside the walk: " + Arrays.toString(met));
            assertEquals(walk.toString(), f.getAs("search"), id);
            assertEquals(steps, f.<Integer>getAs("search_steps"), id);
            double eps = BUDGETS.get(w.chosen());
            assertEquals(eps, f.<Double>getAs("eps"), id);
            kept.merge(eps, 1, Integer::sum);
            Row chosen = attempt(r, ScoreAware.attemptName(name, eps), id);
            assertEquals(chosen.<Long>getAs("png_crc32c"), f.<Long>getAs("png_crc32c"), id);
            assertEquals(chosen.<Boolean>getAs("met"), f.<Boolean>getAs("met"), id);
            assertTrue(f.<String>getAs("attack_spec").contains(" search=" + mode.label() + "(eps=[2,4,8,16,32]"),
                    f.<String>getAs("attack_spec"));
            byte[] png = Files.readAllBytes(round.resolve(f.<String>getAs("output_file")));
            assertEquals(chosen.<Long>getAs("png_bytes"), (long) png.length, id);
            RgbImage adv = Png.decode(png, id);
            assertTrue(Perturbation.between(Fixtures.image(Fixtures.DEMO_DATA, id), adv).linf() <= eps, id + " exceeds " + eps);
        }
        return kept;
    }

    private static List<Row> attempts(Rounds.Result r, String attempt) {
        return r.records().stream().filter(x -> x.<String>getAs("attack").equals(attempt)).toList();
    }

    private static Row attempt(Rounds.Result r, String attempt, String id) {
        return attempts(r, attempt).stream().filter(x -> x.<String>getAs("image_id").equals(id)).findFirst().orElse(null);
    }

    /** Summary lines with their averages to 9 places: two summation orders agree to rounding. */
    private static List<String> rounded(List<io.advspark.job.RoundSummary.Line> lines) {
        return lines.stream().map(l -> String.format(java.util.Locale.ROOT, "%s %d %d %.9f %.9f %.9f %d %d %d %s", l.attack(),
                l.images(), l.failed(), l.untargetedSuccessRate(), l.targetedSuccessRate(), l.meanL2(), l.maxLinf(),
                l.zeroGradientImages(), l.unchanged(), l.scoreAware() == null ? "-" : String.format(java.util.Locale.ROOT,
                        "%.9f %.9f %.9f", l.scoreAware().metRate(), l.scoreAware().meanEps(), l.scoreAware().stepsPerImage())))
                .toList();
    }
}
