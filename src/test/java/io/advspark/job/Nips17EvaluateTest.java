package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.advspark.plan.RoundConfig;
import io.advspark.testing.Python;
import io.advspark.testing.Report;
import io.advspark.testing.Rounds;
import io.advspark.testing.Shared;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The defended-targets check on conf/nips17-mobilenets.conf made MI-DI-TI (eps 16, 10
 * steps, DI p 0.5, TI gaussian 15/3) on the two small MobileNets, scored on the held-out MobileNet V2 plain, behind jpeg(75) and behind bits(4),
 * and checked image by image against an independent PIL + PyTorch prediction of the same PNGs.
 */
class Nips17EvaluateTest {

    @Test
    void mobilenetV2BehindJpegAndBits(@TempDir Path out) throws Exception {
        Shared.root();
        Shared.python();
        Path m = Shared.root().resolve("models/imagenet");
        Path target = m.resolve("mobilenet_v2_1.0_224.pt");
        RoundConfig cfg = Rounds.config("conf/nips17-mobilenets.conf", "round.output=\"" + out + "\"",
                "round.id=nips17-mobilenets-mi-di-ti", "attack.name=mi-di-ti", "attack.input=[\"di(p=0.5, resize=1.1)\"]",
                "attack.gradient=[\"ti(kernel=gaussian, size=15, sigma=3)\"]",
                "dataset.uri=\"" + Shared.nips17() + "\"",
                "models=[{path=\"" + m.resolve("mobilenet_v1_0.25_128.pt") + "\"},{path=\"" + m.resolve("mobilenet_v1_0.5_160.pt")
                        + "\"},{path=\"" + target + "\", role=target, defenses=[\"model\", \"jpeg(75) > model\", \"bits(4) > model\"]}]");
        Rounds.Result attacked = Rounds.run(cfg, "local[2]");
        EvaluationSummary s = Rounds.evaluate(cfg, "local[2]");
        System.out.println(s.render());
        int images = attacked.records().size();

        SparkSession spark = SparkSession.builder().master("local[1]").appName("read").getOrCreate();
        try {
            List<Row> preds = spark.read().parquet(cfg.roundUri() + "/predictions").collectAsList();
            assertEquals(images * 3, preds.size());
            Path json = out.resolve("ref.json");
            Python.run(Path.of("src/test/python/reference_evaluate.py").toAbsolutePath(),
                    List.of("--data", Shared.nips17().toString(), "--pngs", out.resolve(cfg.roundId()).resolve("images").resolve("mi-di-ti").toString(),
                            "--model", target.toString(), "--defense", "none,jpeg:75,bits:4", "--out", json.toString(),
                            "--threads", "2"), 1800);
            JsonNode refs = new ObjectMapper().readTree(json.toFile());
            for (String[] d : new String[][] {{"none", "model"}, {"jpeg:75", "jpeg(quality=75) > model"},
                    {"bits:4", "bits(bits=4) > model"}}) {
                JsonNode ref = refs.get(d[0]);
                int disagree = 0;
                int refClean = 0;
                int refUnt = 0;
                int base = cfg.dataset().labelBase();
                for (Row p : preds) {
                    if (!p.getAs("defense").equals(d[1])) {
                        continue;
                    }
                    JsonNode r = ref.get(p.<String>getAs("image_id"));
                    int y = p.<Integer>getAs("true_label");
                    int c = r.get(0).asInt() + base;
                    int a = r.get(1).asInt() + base;
                    refClean += c == y ? 1 : 0;
                    refUnt += a != y ? 1 : 0;
                    if (c != (int) p.getAs("clean_top1") || a != (int) p.getAs("adv_top1")) {
                        disagree++;
                    }
                }
                Row sum = s.row("mobilenet_v2_1.0_224", d[1]);
                String line = String.format(Locale.ROOT,
                        "| %s | %s | %d images | clean acc %.4f (reference %.4f) | untargeted %.4f [%.4f, %.4f] (reference %.4f)"
                                + " | on correct %.4f | tianchi2019 %.3f | %d images disagree with the reference |",
                        cfg.roundId(), d[1], images, EvaluationSummary.dbl(sum, "clean_correct_rate"), (double) refClean / images,
                        EvaluationSummary.dbl(sum, "untargeted_success_rate"), EvaluationSummary.dbl(sum, "untargeted_success_rate_low"),
                        EvaluationSummary.dbl(sum, "untargeted_success_rate_high"), (double) refUnt / images,
                        EvaluationSummary.dbl(sum, "untargeted_success_rate_on_correct"), EvaluationSummary.dbl(sum, "mean_score"),
                        disagree);
                System.out.println(line);
                Report.append("evaluate.md", line);
                assertTrue(disagree <= images / 100, d[0] + ": " + disagree + " of " + images + " images disagree");
            }
        } finally {
            spark.stop();
        }
    }
}
