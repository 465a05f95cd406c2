package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.data.Png;
import io.advspark.job.SparkTables;
import io.advspark.plan.RoundConfig;
import io.advspark.round.RecordTables;
import io.advspark.testing.LogCapture;
import io.advspark.testing.Rounds;
import io.advspark.vocabulary.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.logging.log4j.Level;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A resume checks what it skips (issue 13, found 3-5): the committed images must have been made
 * with the same models, cards and manifest (else refused, naming what changed), their PNGs must be
 * there with the recorded length ({@code --verify}: checksum and decode too), and an unreadable
 * record file is moved aside and its batch redone. Real rounds on the demo set, 8 images in two
 * batches of 4.
 */
class ResumeIntegrityTest {
    private static final Path DEMO = Path.of("demo").toAbsolutePath();

    private static String models(String... names) {
        List<String> m = new ArrayList<>();
        for (String n : names) {
            m.add("{path=\"" + n + "\", role=surrogate, weight=1.0}");
        }
        return "models=[" + String.join(", ", m) + "]";
    }

    private static RoundConfig config(Path out, Path data, String... more) {
        List<String> o = new ArrayList<>(List.of("round.output=\"" + out + "\"", "round.id=r",
                "dataset.uri=\"" + data + "\"", "dataset.limit=8", "batch-size=4", "attack.steps=2", "threads=1"));
        o.addAll(List.of(more));
        return Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), o.toArray(new String[0]));
    }

    private static Path dataCopy(Path tmp) throws IOException {
        return io.advspark.testing.Fixtures.demoDataCopy(tmp);
    }

    private static Map<String, byte[]> pngs(Path dir) throws IOException {
        return io.advspark.testing.Fixtures.pngs(dir);
    }

    private static void assertSamePngs(Map<String, byte[]> expected, Path dir) throws IOException {
        Map<String, byte[]> now = pngs(dir);
        assertEquals(expected.keySet(), now.keySet());
        for (Map.Entry<String, byte[]> e : expected.entrySet()) {
            assertArrayEquals(e.getValue(), now.get(e.getKey()), e.getKey() + " differs from the uninterrupted run");
        }
    }

    private static void assertOneRowPerImage(List<Row> records, int images) {
        Set<String> keys = new HashSet<>();
        for (Row r : records) {
            assertTrue(keys.add(r.getAs("attack") + "/" + r.getAs("image_id")), "duplicate row " + r);
        }
        assertEquals(images, records.size(), "one row per (attack, image)");
    }

    /** One batch redone, the other skipped (batches depend on how the work is split: not asserted). */
    private static void assertBatchRedone(Rounds.Result r) {
        long resumed = r.summary().resumed();
        assertTrue(resumed > 0 && resumed < 8, "resumed " + resumed);
    }

    private static byte[] readQuietly(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<Path> recordFiles(Path round) throws IOException {
        try (Stream<Path> s = Files.walk(round.resolve("records"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList();
        }
    }

    /** Found 3: other surrogates (another model file, an edited card, another weight) are refused. */
    @Test
    void changedSurrogatesAreRefused(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        Path models = tmp.resolve("models");
        Files.createDirectories(models);
        for (String f : List.of("tiny_a.pt", "tiny_a.json", "tiny_b.pt", "tiny_b.json", "tiny_c.pt", "tiny_c.json")) {
            Files.copy(DEMO.resolve("models").resolve(f), models.resolve(f));
        }
        String ab = models(models.resolve("tiny_a.pt").toString(), models.resolve("tiny_b.pt").toString());
        Rounds.Result first = Rounds.run(config(out, DEMO.resolve("data"), ab), "local[2]");
        assertOneRowPerImage(first.records(), 8);
        assertTrue(first.records().stream().allMatch(r -> r.getAs("png_bytes") != null
                && r.<String>getAs("model_sha256").split("; ").length == 2), "rows carry PNG length and fingerprints");

        // Another model file in place of tiny_b.
        String ac = models(models.resolve("tiny_a.pt").toString(), models.resolve("tiny_c.pt").toString());
        ConfigException e = assertThrows(ConfigException.class,
                () -> Rounds.run(config(out, DEMO.resolve("data"), ac), "local[2]"));
        assertTrue(e.getMessage().contains("attack 'main'") && e.getMessage().contains("model file ")
                && e.getMessage().contains(models.resolve("tiny_c.pt") + " of surrogate 2 has other content")
                && e.getMessage().contains("another advspark.round.id") && e.getMessage().contains("--force"),
                e.getMessage());

        // tiny_b's card edited (same meaning, other bytes): reported, as a card is part of the model.
        Path card = models.resolve("tiny_b.json");
        Files.writeString(card, Files.readString(card) + "\n");
        e = assertThrows(ConfigException.class, () -> Rounds.run(config(out, DEMO.resolve("data"), ab), "local[2]"));
        assertTrue(e.getMessage().contains("model card ") && e.getMessage().contains(card + " of surrogate 2"),
                e.getMessage());
        Files.copy(DEMO.resolve("models/tiny_b.json"), card, java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        // Another ensemble weight: 1 and 2 give the second surrogate a share of 2/3 (weights are relative).
        String weighted = "models=[{path=\"" + models.resolve("tiny_a.pt") + "\", role=surrogate, weight=1.0}, {path=\""
                + models.resolve("tiny_b.pt") + "\", role=surrogate, weight=2.0}]";
        e = assertThrows(ConfigException.class,
                () -> Rounds.run(config(out, DEMO.resolve("data"), weighted), "local[2]"));
        assertTrue(e.getMessage().contains("weight=0.6666666666666666"), e.getMessage());

        // The same surrogates again, from another folder (identity is by content): resumes.
        Rounds.Result again = Rounds.run(config(out, DEMO.resolve("data"),
                models(DEMO.resolve("models/tiny_a.pt").toString(), DEMO.resolve("models/tiny_b.pt").toString())),
                "local[2]");
        assertEquals(8, again.summary().resumed());

        // --force redoes the round with the new ensemble.
        Rounds.Result forced = Rounds.run(config(out, DEMO.resolve("data"), ac), "local[2]", true);
        assertEquals(0, forced.summary().resumed());
        assertOneRowPerImage(forced.records(), 8);
    }

    /** Found 3: a manifest whose labels changed is refused, naming it. */
    @Test
    void changedManifestIsRefused(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        Path data = dataCopy(tmp);
        Rounds.run(config(out, data), "local[2]");
        Path csv = data.resolve("dev.csv");
        Files.writeString(csv, Files.readString(csv).replace("0001.png,1,3", "0001.png,1,4"));
        ConfigException e = assertThrows(ConfigException.class, () -> Rounds.run(config(out, data), "local[2]"));
        assertTrue(e.getMessage().contains("manifest ") && e.getMessage().contains(csv + " has other content")
                && e.getMessage().contains("--force"), e.getMessage());
    }

    /**
     * Found 4: a truncated PNG is redone on a plain resume (its length differs from its record); a
     * PNG damaged without changing its length is caught by --verify only.
     */
    @Test
    void damagedPngsAreRedone(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        Path data = DEMO.resolve("data");
        Rounds.run(config(out, data), "local[2]");
        Path round = out.resolve("r");
        Map<String, byte[]> whole = pngs(round.resolve("images"));
        assertEquals(8, whole.size());

        Path truncated = round.resolve("images/main/0001.png");
        byte[] good = Files.readAllBytes(truncated);
        Files.write(truncated, Arrays.copyOf(good, good.length / 2));
        try (LogCapture log = LogCapture.start(Level.INFO)) {
            Rounds.Result r = Rounds.run(config(out, data), "local[2]");
            assertBatchRedone(r);
            assertOneRowPerImage(r.records(), 8);
            assertTrue(log.events().contains("committed PNG ") && log.events().contains("images/main/0001.png is "
                    + good.length / 2 + " bytes, its record says " + good.length), log.events());
        }
        assertSamePngs(whole, round.resolve("images"));

        // Same length, other bytes: a plain resume cannot see it...
        byte[] flipped = good.clone();
        for (int i = good.length / 2; i < good.length / 2 + 16; i++) {
            flipped[i] ^= 0x5a;
        }
        Files.write(truncated, flipped);
        assertEquals(8, Rounds.run(config(out, data), "local[2]").summary().resumed());
        // ... --verify does.
        try (LogCapture log = LogCapture.start(Level.INFO)) {
            Rounds.Result r = Rounds.run(config(out, data), "local[2]", false, true);
            assertBatchRedone(r);
            assertTrue(log.events().contains("images/main/0001.png does not match the CRC32C its record holds"),
                    log.events());
        }
        assertSamePngs(whole, round.resolve("images"));
        Png.decode(Files.readAllBytes(truncated), truncated.toString());
        // A clean round passes --verify untouched.
        assertEquals(8, Rounds.run(config(out, data), "local[2]", false, true).summary().resumed());
    }

    /** Found 5: a truncated record file is moved aside with a warning and its batch redone. */
    @Test
    void unreadableRecordFileIsMovedAside(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        Path data = DEMO.resolve("data");
        Rounds.run(config(out, data), "local[2]");
        Path round = out.resolve("r");
        Map<String, byte[]> whole = pngs(round.resolve("images"));
        List<Path> files = recordFiles(round);
        assertEquals(2, files.size());
        Path bad = files.get(0);
        byte[] bytes = Files.readAllBytes(bad);
        Files.write(bad, Arrays.copyOf(bytes, bytes.length / 2));

        try (LogCapture log = LogCapture.start(Level.INFO)) {
            Rounds.Result r = Rounds.run(config(out, data), "local[2]");
            assertBatchRedone(r);
            assertOneRowPerImage(r.records(), 8);
            assertTrue(log.events().contains("record file ") && log.events().contains(bad.getFileName().toString()
                    + " cannot be read") && log.events().contains("its batch is redone"), log.events());
            assertFalse(log.events().contains("Exception in task"), "no failed Spark task (and its stack trace)");
        }
        Path aside = round.resolve("corrupt/records/attack=main/corrupt-" + bad.getFileName());
        assertArrayEquals(Arrays.copyOf(bytes, bytes.length / 2), Files.readAllBytes(aside), "moved, not deleted");
        assertEquals(List.of(), recordFiles(round).stream().filter(p -> Arrays.equals(readQuietly(p),
                Arrays.copyOf(bytes, bytes.length / 2))).toList(), "the unreadable file is out of records/");
        assertSamePngs(whole, round.resolve("images"));
    }

    /** Rows an older advspark wrote (no fingerprints, no PNG length) are not trusted silently. */
    @Test
    void rowsOfAnOlderAdvsparkAreRefused(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        Path data = DEMO.resolve("data");
        Rounds.Result first = Rounds.run(config(out, data), "local[2]");
        Path file = recordFiles(out.resolve("r")).get(0);
        // The record columns of the previous release: the first 20.
        StructType old = new StructType(Arrays.copyOf(SparkTables.struct(RecordTables.RECORDS).fields(), 20, StructField[].class));
        List<Row> rows = new ArrayList<>();
        for (Row r : first.records()) {
            Object[] v = new Object[20];
            for (int i = 0; i < 20; i++) {
                v[i] = r.get(r.fieldIndex(old.fields()[i].name()));
            }
            rows.add(RowFactory.create(v));
        }
        Files.write(file, ParquetFiles.encode(old, rows.subList(0, 4)));
        ConfigException e = assertThrows(ConfigException.class, () -> Rounds.run(config(out, data), "local[2]"));
        assertTrue(e.getMessage().contains("was written by an older advspark") && e.getMessage().contains("--force"),
                e.getMessage());
        assertFalse(Files.exists(out.resolve("r/corrupt")));
    }
}
