package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.advspark.data.ManifestRow;
import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.score.Perturbation;
import io.advspark.testing.Fixtures;
import io.advspark.testing.Python;
import io.advspark.testing.Report;
import io.advspark.testing.Rounds;
import io.advspark.testing.Shared;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Whole rounds on the shared data through Spark: white-box sanity, the budget checked on the
 * PNGs decoded from storage, and success-rate / perturbation statistics against the independent
 * PyTorch reference run end to end on the same images.
 */
class RealRoundsTest {

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "conf/nips17-mobilenets.conf, untargeted, 0.95",
        "conf/nips17-mobilenets.conf, targeted, 0",
        "conf/cifar10-resnets.conf, untargeted, 0.95",
    })
    void roundMatchesReference(String conf, String objective, double minWhiteBox, @TempDir Path out) throws Exception {
        Shared.root();
        Shared.python();
        Rounds.Result res = Rounds.run(
                Rounds.config(conf, "round.output=\"" + out + "\"", "attack.objective=" + objective,
                        "dataset.uri=\"" + (conf.contains("nips17") ? Shared.nips17() : Shared.cifar10()) + "\"",
                        "models=" + modelsOverride(conf)),
                "local[2]");
        var cfg = res.config();
        Path data = Path.of(java.net.URI.create(cfg.dataset().uri()));
        int labelBase = cfg.dataset().labelBase();
        List<ManifestRow> rows = Fixtures.manifest(data, labelBase, 0);
        assertEquals(rows.size(), res.records().size(), "one record per manifest row");

        // Budget and the scores, on the PNGs as stored.
        int eps = (int) cfg.attack().epsPixels();
        long success = 0;
        double sumL2 = 0;
        for (ManifestRow r : rows) {
            Row rec = res.record(r.imageId());
            assertNull(rec.getAs("error"), r.imageId());
            Path png = out.resolve(cfg.roundId()).resolve("images").resolve("main").resolve(r.imageId());
            RgbImage adv = Png.decode(Files.readAllBytes(png), png.toString());
            RgbImage clean = Fixtures.image(data, r.imageId());
            Perturbation p = Perturbation.between(clean, adv);
            assertTrue(p.linf() <= eps, r.imageId() + ": L-inf " + p.linf() + " > " + eps);
            assertEquals(p.linf(), (int) rec.getAs("linf"), "record linf matches the PNG");
            assertEquals(p.l2(), (double) rec.getAs("l2"), 1e-9, "record l2 matches the PNG");
            boolean ok = objective.equals("targeted") ? rec.<Boolean>getAs("targeted_success")
                    : rec.<Boolean>getAs("untargeted_success");
            success += ok ? 1 : 0;
            sumL2 += p.l2();
        }
        double rate = (double) success / rows.size();
        double meanL2 = sumL2 / rows.size();
        assertTrue(rate >= minWhiteBox, "white-box success " + rate + " < " + minWhiteBox);

        // The independent reference on the same images and models.
        Path refOut = out.resolve("reference");
        List<String> args = new java.util.ArrayList<>(List.of("e2e", "--data", data.toString(),
                "--label-base", String.valueOf(labelBase), "--eps", String.valueOf(eps), "--steps",
                String.valueOf(cfg.attack().steps()), "--objective", objective, "--threads", "2",
                "--batch-size", String.valueOf(cfg.batchSize()), "--out", refOut.toString()));
        for (var m : cfg.surrogates()) {
            args.add("--model");
            args.add(Path.of(java.net.URI.create(m.path())) + ":" + m.weight());
        }
        Python.run(args, 1800);
        JsonNode ref = new ObjectMapper().readTree(refOut.resolve("summary.json").toFile()).get("totals");
        double refRate = ref.get(objective.equals("targeted") ? "targeted_success_rate" : "untargeted_success_rate").asDouble();
        double refL2 = ref.get("mean_l2").asDouble();
        Report.append("rounds.md", String.format(Locale.ROOT,
                "| %s | %s | %d images | success %.4f (reference %.4f) | mean L2 %.2f (reference %.2f, %+.2f%%) | %.1f s |",
                cfg.roundId(), objective, rows.size(), rate, refRate, meanL2, refL2, 100 * (meanL2 / refL2 - 1),
                res.summary().seconds()));
        assertEquals(refRate, rate, 0.02, "success rate within 2 points of the reference");
        assertEquals(1.0, meanL2 / refL2, 0.02, "mean L2 within 2% of the reference");
    }

    /** The conf files use ../shared relative paths; point them at wherever Shared found it. */
    private static String modelsOverride(String conf) {
        Path m = Shared.root().resolve("models");
        if (conf.contains("nips17")) {
            return "[{path=\"" + m.resolve("imagenet/mobilenet_v1_0.25_128.pt") + "\"},"
                    + "{path=\"" + m.resolve("imagenet/mobilenet_v1_0.5_160.pt") + "\"}]";
        }
        return "[{path=\"" + m.resolve("cifar10/resnet20.pt") + "\"},{path=\"" + m.resolve("cifar10/resnet32.pt") + "\"}]";
    }
}
