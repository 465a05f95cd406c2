package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.Rounds;
import io.advspark.vocabulary.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input gets a clear message naming the file, row or field. Data errors are recorded and the
 * round completes; configuration and model errors fail before any image is processed. Uses only
 * the repository's demo set, so it runs on a fresh clone.
 */
class BadInputTest {
    private static final Path DEMO = Path.of("demo").toAbsolutePath();

    /** A copy of the first demo images plus the bad cases, with its manifest. */
    private static Path dataset(Path dir, String... extraRows) throws Exception {
        Path images = Files.createDirectories(dir.resolve("data/images"));
        List<String> lines = Files.readAllLines(DEMO.resolve("data/dev.csv"));
        StringBuilder csv = new StringBuilder(lines.get(0)).append('\n');
        for (int i = 1; i <= 5; i++) {
            String id = lines.get(i).split(",")[0];
            Files.copy(DEMO.resolve("data/images").resolve(id), images.resolve(id));
            csv.append(lines.get(i)).append('\n');
        }
        for (String r : extraRows) {
            csv.append(r).append('\n');
        }
        Files.writeString(dir.resolve("data/dev.csv"), csv);
        return dir.resolve("data");
    }

    @Test
    void badImagesAndRowsAreRecordedAndTheRestCompletes(@TempDir Path tmp) throws Exception {
        Path data = dataset(tmp,
                "corrupt.png,1,2",
                "missing.png,1,2",
                "0040.png,abc,2",
                "../escape.png,1,2",
                "sub/x.png,1,2",
                "/tmp/abs.png,1,2",
                "C:evil.png,1,2",
                "0041.png,1,99");
        Files.write(data.resolve("images/corrupt.png"), "definitely not a png".getBytes());
        Files.createDirectories(data.resolve("images/sub"));
        Files.copy(data.resolve("images/0000.png"), data.resolve("images/sub/x.png"));
        Files.copy(data.resolve("images/0000.png"), data.resolve("escape.png"));
        Path out = tmp.resolve("out");
        Rounds.Result r = Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), "dataset.uri=\"" + data + "\"", "round.output=\"" + out + "\"",
                "round.id=bad", "attack.steps=2"), "local[2]");

        assertEquals(13, r.records().size(), "one row per manifest row, good or bad");
        assertEquals(8, r.summary().failed());
        List<Row> ok = r.records().stream().filter(x -> x.getAs("error") == null).toList();
        assertEquals(5, ok.size());
        assertTrue(error(r, "corrupt.png").contains("corrupt.png") && error(r, "corrupt.png").contains("corrupt PNG"),
                error(r, "corrupt.png"));
        assertTrue(error(r, "missing.png").contains("image file not found") && error(r, "missing.png").contains("missing.png"),
                error(r, "missing.png"));
        String nonNumeric = r.records().stream().filter(x -> (int) x.getAs("manifest_row") == 9).findFirst().orElseThrow()
                .getAs("error");
        assertTrue(nonNumeric.contains("dev.csv line 9") && nonNumeric.contains("TrueLabel 'abc' is not an integer"), nonNumeric);
        assertTrue(error(r, "../escape.png").contains("'..'"), error(r, "../escape.png"));
        assertTrue(error(r, "sub/x.png").contains("path separator"), error(r, "sub/x.png"));
        assertTrue(error(r, "/tmp/abs.png").contains("path separator"), error(r, "/tmp/abs.png"));
        assertTrue(error(r, "C:evil.png").contains("':'"), error(r, "C:evil.png"));
        String range = r.records().stream().filter(x -> (int) x.getAs("manifest_row") == 14).findFirst().orElseThrow()
                .getAs("error");
        assertTrue(range.contains("TargetClass 99 is out of range 0..5"), range);

        // Only the good images were written, and only inside the round's images folder.
        Path imagesOut = out.resolve("bad/images/main");
        try (Stream<Path> all = Files.walk(tmp)) {
            List<Path> pngs = all.filter(p -> p.toString().endsWith(".png")).filter(p -> !p.startsWith(data)).toList();
            assertEquals(5, pngs.size(), pngs.toString());
            assertTrue(pngs.stream().allMatch(p -> p.getParent().equals(imagesOut)), pngs.toString());
        }
        try (Stream<Path> files = Files.list(imagesOut)) {
            List<Path> all = files.toList();
            assertEquals(5, all.size(), "only the PNGs: no temporary or checksum files left " + all);
        }
        assertFalse(Files.exists(Path.of("/tmp/abs.png")) && Files.size(Path.of("/tmp/abs.png")) > 0
                && Files.getLastModifiedTime(Path.of("/tmp/abs.png")).toMillis() > System.currentTimeMillis() - 600_000);
    }

    private static String error(Rounds.Result r, String id) {
        String e = r.record(id).getAs("error");
        assertNotNull(e, id + " should have failed");
        return e;
    }

    @Test
    void modelCardWithMissingFieldFailsBeforeAnyImage(@TempDir Path tmp) throws Exception {
        Path models = Files.createDirectories(tmp.resolve("models"));
        Files.copy(DEMO.resolve("models/tiny_a.pt"), models.resolve("tiny_a.pt"));
        String card = Files.readString(DEMO.resolve("models/tiny_a.json")).replace("\"mean\"", "\"mean_typo\"");
        Files.writeString(models.resolve("tiny_a.json"), card);
        Path out = tmp.resolve("out");
        ConfigException e = assertThrows(ConfigException.class, () -> Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(),
                "models=[{path=\"" + models.resolve("tiny_a.pt") + "\"}]", "round.output=\"" + out + "\""), "local[1]"));
        assertTrue(e.getMessage().contains("missing field 'mean'") && e.getMessage().contains("tiny_a.json"), e.getMessage());
        assertFalse(Files.exists(out.resolve("demo/images")), "no image was processed");
    }

    @Test
    void modelWhoseOutputContradictsItsCardFailsBeforeAnyImage(@TempDir Path tmp) throws Exception {
        Path models = Files.createDirectories(tmp.resolve("models"));
        Files.copy(DEMO.resolve("models/tiny_a.pt"), models.resolve("tiny_a.pt"));
        String card = Files.readString(DEMO.resolve("models/tiny_a.json"))
                .replaceAll("\"num_classes\": *6", "\"num_classes\": 10");
        Files.writeString(models.resolve("tiny_a.json"), card);
        Path out = tmp.resolve("out");
        ConfigException e = assertThrows(ConfigException.class, () -> Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(),
                "models=[{path=\"" + models.resolve("tiny_a.pt") + "\"}]", "round.output=\"" + out + "\""), "local[1]"));
        assertTrue(e.getMessage().contains("tiny_a.pt") && e.getMessage().contains("num_classes=10")
                && e.getMessage().contains("(1,6)") || e.getMessage().contains("[1, 6]") || e.getMessage().contains("(1, 6)"),
                e.getMessage());
        assertFalse(Files.exists(out.resolve("demo/images")), "no image was processed");
    }

    @Test
    void duplicateImageIdsAreRefusedBeforeAnyImage(@TempDir Path tmp) throws Exception {
        // Lines 2-6 are the demo's first five images; line 8 repeats line 3's, past dataset.limit.
        String second = Files.readAllLines(DEMO.resolve("data/dev.csv")).get(2).split(",")[0];
        Path data = dataset(tmp, "0041.png,1,2", second + ",2,3");
        Path out = tmp.resolve("out");
        ConfigException e = assertThrows(ConfigException.class, () -> Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(),
                "dataset.uri=\"" + data + "\"", "round.output=\"" + out + "\"", "dataset.limit=2"), "local[1]"));
        assertTrue(e.getMessage().contains("dev.csv: ImageId '" + second + "' is on line 3 and line 8"), e.getMessage());
        assertFalse(e.getMessage().startsWith("cannot read manifest"), "the message names the file once: " + e.getMessage());
        assertFalse(Files.exists(out.resolve("demo/images")), "no image was processed");
        assertFalse(Files.exists(out.resolve("demo/records")), "no record was written");
    }

    @Test
    void labelsOutsideTheModelsRangeOnEveryRowAreOneConfigurationError(@TempDir Path tmp) throws Exception {
        // The demo's labels are 0-based over 6 classes; shifted by 10 none fits the surrogates.
        Path data = dataset(tmp);
        List<String> lines = Files.readAllLines(data.resolve("dev.csv"));
        StringBuilder csv = new StringBuilder(lines.get(0)).append('\n');
        for (String l : lines.subList(1, lines.size())) {
            String[] f = l.split(",");
            csv.append(f[0]).append(',').append(Integer.parseInt(f[1]) + 10).append(',').append(f[2]).append('\n');
        }
        Files.writeString(data.resolve("dev.csv"), csv);
        Path out = tmp.resolve("out");
        ConfigException e = assertThrows(ConfigException.class, () -> Rounds.run(Rounds.config(Rounds.TINY.getPath(),
                "dataset.uri=\"" + data + "\"", "round.output=\"" + out + "\""), "local[1]"));
        assertTrue(e.getMessage().contains("none of its 5 rows is usable") && e.getMessage().contains("line 2: TrueLabel")
                && e.getMessage().contains("and 2 more") && e.getMessage().contains("have 6 classes")
                && e.getMessage().contains("advspark.dataset.label-base (0)"), e.getMessage());
        assertFalse(Files.exists(out.resolve("demo/records")), "no record was written");
    }

    @Test
    void missingManifestNamesTheFile(@TempDir Path tmp) {
        ConfigException e = assertThrows(ConfigException.class, () -> Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(),
                "dataset.uri=\"" + tmp.resolve("nowhere") + "\"", "round.output=\"" + tmp.resolve("out") + "\""), "local[1]"));
        assertTrue(e.getMessage().contains("manifest not found") && e.getMessage().contains("nowhere/dev.csv"), e.getMessage());
    }

    @Test
    void goodRowsOfABadRoundStillScoreCorrectly(@TempDir Path tmp) throws Exception {
        Path data = dataset(tmp);
        Rounds.Result r = Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), "dataset.uri=\"" + data + "\"",
                "round.output=\"" + tmp.resolve("out") + "\"", "attack.steps=3"), "local[1]");
        for (Row row : r.records()) {
            assertNull(row.getAs("error"));
            assertTrue((int) row.getAs("linf") <= 8);
        }
    }
}
