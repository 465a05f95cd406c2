package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.plan.RoundConfig;
import io.advspark.testing.Purifiers;
import io.advspark.testing.Rounds;
import io.advspark.vocabulary.ConfigException;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code advspark evaluate} with tensor-stage defenses on the demo round: a relative purifier path
 * is resolved like a model's, the predictions table carries the vote margins of the rs chain (null
 * elsewhere), and a broken purifier stops the evaluation before any scoring, naming the file.
 */
class TensorDefenseRoundTest {

    private static RoundConfig config(Path out, String defenses) {
        return Rounds.config(Rounds.TINY.getPath(), "round.output=\"" + out + "\"", "round.id=tensor",
                "models=[{path=demo/models/tiny_a.pt},{path=demo/models/tiny_b.pt},"
                        + "{path=demo/models/tiny_c.pt, role=target, defenses=" + defenses + "}]");
    }

    @Test
    void marginsAreWrittenAndBrokenPurifiersRefused(@TempDir Path out) throws Exception {
        Path denoiser = Purifiers.denoiser();
        // Relative to the working directory, as a model path may be.
        String relative = Path.of("").toAbsolutePath().relativize(denoiser).toString();
        RoundConfig cfg = config(out, "[\"model\", \"rs(sigma=0.25,n=8)\", \"purify(path=" + relative + ") > model\"]");
        String purifySpec = "purify(path=" + denoiser.toUri() + ") > model";
        assertEquals(List.of("model", "rs(sigma=0.25,n=8) > model", purifySpec),
                cfg.targets().get(0).defenses().stream().map(d -> d.spec()).toList(), "the purifier's path made absolute");
        Rounds.run(cfg, "local[2]");
        EvaluationSummary s = Rounds.evaluate(cfg, "local[2]");
        assertEquals(3, s.rows().size());
        SparkSession spark = SparkSession.builder().master("local[1]").appName("read").getOrCreate();
        try {
            List<Row> preds = spark.read().parquet(out.resolve("tensor/predictions").toString()).collectAsList();
            assertEquals(48 * 3, preds.size());
            int rs = 0;
            for (Row p : preds) {
                assertNull(p.getAs("error"));
                Double clean = p.getAs("clean_vote_margin");
                Double adv = p.getAs("adv_vote_margin");
                if (p.getAs("defense").equals("rs(sigma=0.25,n=8) > model")) {
                    rs++;
                    assertTrue(clean != null && clean >= 0 && clean <= 1 && Math.abs(clean * 8 - Math.rint(clean * 8)) < 1e-12,
                            "clean margin " + clean);
                    assertTrue(adv != null && adv >= 0 && adv <= 1 && Math.abs(adv * 8 - Math.rint(adv * 8)) < 1e-12,
                            "adv margin " + adv);
                } else {
                    assertNull(clean, p.<String>getAs("defense"));
                    assertNull(adv, p.<String>getAs("defense"));
                }
            }
            assertEquals(48, rs);
            List<String> cols = List.of(spark.read().parquet(out.resolve("tensor/predictions").toString()).columns());
            assertTrue(cols.containsAll(List.of("clean_vote_margin", "adv_vote_margin")), cols.toString());
        } finally {
            spark.stop();
        }
        for (Path broken : List.of(Purifiers.brokenShape(), Purifiers.brokenRange())) {
            RoundConfig bad = config(out, "[\"purify(path=" + broken + ")\"]");
            ConfigException e = assertThrows(ConfigException.class, () -> Rounds.evaluate(bad, "local[2]"));
            assertTrue(e.getMessage().contains(broken.getFileName().toString()), e.getMessage());
            System.out.println("refused at evaluate: " + e.getMessage());
        }
    }
}
