package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.loss.CrossEntropy;
import io.advspark.data.ManifestRow;
import io.advspark.model.Autograd;
import io.advspark.model.Ensemble;
import io.advspark.model.ExportTool;
import io.advspark.model.ModelBundle;
import io.advspark.model.Precision;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.RoundConfig;
import io.advspark.testing.Fixtures;
import io.advspark.testing.Rounds;
import io.advspark.util.Fingerprint;
import io.advspark.vocabulary.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code advspark.precision}: a bf16 round runs each surrogate's bf16 export (written by
 * tools/export_model.py --dtype bf16 beside it) and says so in its records and attacks table; the
 * export computes a gradient close to, and not identical with, the fp32 one; a missing export, an
 * export in an fp32 round and fp16 on a CPU are refused with messages naming the file or key. Uses
 * the repository's demo set and tiny models (and /usr/bin/python3 with torch for the exporter).
 */
class PrecisionRoundTest {
    private static final Path DEMO = Path.of("demo").toAbsolutePath();

    @TempDir
    static Path dir;

    /** demo/models' tiny_a and tiny_b copied, each with its bf16 export beside it. */
    static Path models;

    @BeforeAll
    static void exportBf16() throws Exception {
        models = Files.createDirectories(dir.resolve("models"));
        for (String m : List.of("tiny_a", "tiny_b")) {
            Files.copy(DEMO.resolve("models/" + m + ".pt"), models.resolve(m + ".pt"));
            Files.copy(DEMO.resolve("models/" + m + ".json"), models.resolve(m + ".json"));
            ExportTool.python(List.of("tools/export_model.py", "--source", "torchscript", "--model",
                    models.resolve(m + ".pt").toString(), "--dtype", "bf16", "--out", models.toString(), "--threads", "1"));
        }
    }

    private static String modelsSetting(Path folder, String suffix) {
        return "models=[{path=\"" + folder.resolve("tiny_a" + suffix + ".pt") + "\"}, {path=\""
                + folder.resolve("tiny_b" + suffix + ".pt") + "\"}]";
    }

    @Test
    void aBf16RoundRunsTheExportsAndRecordsThePrecision(@TempDir Path tmp) throws Exception {
        RoundConfig cfg = Rounds.config(Rounds.TINY.getPath(), modelsSetting(models, ""), "precision=bf16",
                "dataset.uri=\"" + DEMO.resolve("data") + "\"", "dataset.limit=8", "attack.steps=3",
                "round.output=\"" + tmp.resolve("out") + "\"");
        assertEquals(Precision.BF16, cfg.precision());
        Rounds.Result r = Rounds.run(cfg, "local[1]");
        assertEquals(8, r.records().size());
        String shaA = Fingerprint.sha256(Files.readAllBytes(models.resolve("tiny_a.bf16.pt")));
        String shaB = Fingerprint.sha256(Files.readAllBytes(models.resolve("tiny_b.bf16.pt")));
        for (Row row : r.records()) {
            assertNull(row.getAs("error"));
            assertEquals(shaA + "; " + shaB, row.getAs("model_sha256"), "the bf16 files made the images");
            String settings = row.getAs("surrogate_settings");
            assertEquals(2, settings.split("precision=bf16", -1).length - 1, settings);
            assertTrue(row.<Integer>getAs("linf") <= 8, "budget after PNG rounding");
        }
        SparkSession spark = SparkSession.builder().master("local[1]").getOrCreate();
        try {
            List<Row> attacks = spark.read().parquet(cfg.roundUri() + "/attacks").collectAsList();
            assertEquals("bf16", attacks.get(0).getAs("precision"));
        } finally {
            spark.stop();
        }
    }

    @Test
    void theBf16GradientIsCloseToTheFp32OneButNotTheSame() throws Exception {
        List<ManifestRow> rows = Fixtures.manifest(DEMO.resolve("data"), 0, 8);
        float[] clean = Fixtures.batch(Fixtures.images(DEMO.resolve("data"), rows));
        int[] y = rows.stream().mapToInt(ManifestRow::trueLabel).toArray();
        float[] g32 = gradient(List.of(Fixtures.bundle(models.resolve("tiny_a.pt"), 1.0)), clean, y);
        float[] g16 = gradient(List.of(Fixtures.bundle(models.resolve("tiny_a.bf16.pt"), 1.0)), clean, y);
        double dot = 0;
        double n32 = 0;
        double n16 = 0;
        int sameSign = 0;
        int nonzero = 0;
        boolean identical = true;
        for (int i = 0; i < g32.length; i++) {
            dot += (double) g32[i] * g16[i];
            n32 += (double) g32[i] * g32[i];
            n16 += (double) g16[i] * g16[i];
            identical &= g32[i] == g16[i];
            if (g32[i] != 0) {
                nonzero++;
                sameSign += Math.signum(g32[i]) == Math.signum(g16[i]) ? 1 : 0;
            }
        }
        double cosine = dot / Math.sqrt(n32 * n16);
        double signAgreement = (double) sameSign / nonzero;
        assertFalse(identical, "the bf16 export computes in bf16, so its gradient differs from fp32's");
        // bf16 keeps 8 mantissa bits: the gradient's direction survives, as the published bf16 attacks rely on.
        assertTrue(cosine > 0.95, "cosine " + cosine); // measured 0.982 on tiny_a
        assertTrue(signAgreement > 0.9, "sign agreement " + signAgreement); // measured 0.956
    }

    private static float[] gradient(List<ModelBundle> bundles, float[] clean, int[] y) throws Exception {
        CrossEntropy ce = new CrossEntropy(1, 0);
        try (Ensemble ens = Ensemble.load(bundles); NDManager m = TorchRuntime.newManager(Device.cpu())) {
            NDArray x = m.create(clean, new Shape(y.length, 3, 64, 64));
            return Autograd.gradient(x, v -> ce.of(ens.logits(v), y, y), m).toFloatArray();
        }
    }

    @Test
    void aMissingExportIsNamedWithTheCommandThatWritesIt(@TempDir Path tmp) throws Exception {
        Path plain = Files.createDirectories(tmp.resolve("plain"));
        for (String f : List.of("tiny_a.pt", "tiny_a.json", "tiny_b.pt", "tiny_b.json", "tiny_b.bf16.pt", "tiny_b.bf16.json")) {
            Files.copy(models.resolve(f), plain.resolve(f));
        }
        RoundConfig cfg = Rounds.config(Rounds.TINY.getPath(), modelsSetting(plain, ""), "precision=bf16",
                "round.output=\"" + tmp.resolve("out") + "\"");
        ConfigException e = assertThrows(ConfigException.class, () -> Rounds.run(cfg, "local[1]"));
        assertTrue(e.getMessage().contains("tiny_a.bf16.pt (card ") && e.getMessage().contains("tiny_a.bf16.json are missing"),
                e.getMessage());
        assertTrue(e.getMessage().contains("tools/export_model.py --source torchscript"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("out/demo/records")), "nothing attacked");
    }

    @Test
    void aBf16FileInAnFp32RoundIsRefused(@TempDir Path tmp) {
        RoundConfig cfg = Rounds.config(Rounds.TINY.getPath(), modelsSetting(models, ".bf16"),
                "round.output=\"" + tmp.resolve("out") + "\"");
        ConfigException e = assertThrows(ConfigException.class, () -> Rounds.run(cfg, "local[1]"));
        assertTrue(e.getMessage().contains("tiny_a.bf16.pt is a bf16 export"), e.getMessage());
        assertTrue(e.getMessage().contains("advspark.precision = bf16"), e.getMessage());
        // Named directly in a bf16 round, the export is used as it is.
        RoundConfig direct = Rounds.config(Rounds.TINY.getPath(), modelsSetting(models, ".bf16"), "precision=bf16");
        assertEquals(List.of(models.resolve("tiny_a.bf16.pt").toString(), models.resolve("tiny_b.bf16.pt").toString()),
                direct.surrogateSources(io.advspark.data.Storage.of(new org.apache.hadoop.conf.Configuration())).stream()
                        .map(s -> Path.of(java.net.URI.create(s.path())).toString()).toList());
    }

    @Test
    void fp16OnACpuAndUnknownPrecisionsAreRefusedNamingTheKey() {
        ConfigException fp16 = assertThrows(ConfigException.class,
                () -> Rounds.config(Rounds.TINY.getPath(), "precision=fp16"));
        assertTrue(fp16.getMessage().startsWith("advspark.precision = fp16 is for GPUs"), fp16.getMessage());
        ConfigException bad = assertThrows(ConfigException.class,
                () -> Rounds.config(Rounds.TINY.getPath(), "precision=int8"));
        assertTrue(bad.getMessage().startsWith("advspark.precision: 'int8' is not one of fp32, bf16, fp16"), bad.getMessage());
    }
}
