package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.plan.RoundConfig;
import io.advspark.testing.Rounds;
import io.advspark.vocabulary.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rerun resumes from what is committed (RoundState): committed images are skipped, error rows
 * retried, a record file whose PNG is gone redone, a changed config under an old name refused,
 * and --force redoes everything. Demo set only: runs on a fresh clone. The driver-kill case is
 * ResumeIT.
 */
class ResumeTest {
    private static final Path DEMO = Path.of("demo").toAbsolutePath();
    private static final String ATTACKS = "attacks=[{name=mi}, {name=mi-di, input=[\"di(p=0.5, resize=1.1)\"]}]";

    private static RoundConfig config(Path out, Path data, String... more) {
        List<String> o = new java.util.ArrayList<>(List.of("round.output=\"" + out + "\"", "round.id=r",
                "dataset.uri=\"" + data + "\"", "dataset.limit=16", ATTACKS, "threads=1"));
        o.addAll(List.of(more));
        return Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), o.toArray(new String[0]));
    }

    private static Map<String, byte[]> pngs(Path dir) throws Exception {
        return io.advspark.testing.Fixtures.pngs(dir);
    }

    private static void assertOneRowPerKey(List<Row> records, int perAttack) {
        Set<String> keys = new HashSet<>();
        for (Row r : records) {
            assertTrue(keys.add(r.getAs("attack") + "/" + r.getAs("image_id")), "duplicate row " + r);
        }
        assertEquals(2 * perAttack, records.size(), "one row per (attack, image)");
    }

    @Test
    void aRerunSkipsWhatIsCommittedAndRedoesWhatIsNot(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        Path data = io.advspark.testing.Fixtures.demoDataCopy(tmp);
        // One image unreadable on the first run: an error row under each attack.
        byte[] good = Files.readAllBytes(data.resolve("images/0003.png"));
        Files.write(data.resolve("images/0003.png"), "not a png".getBytes());

        Rounds.Result first = Rounds.run(config(out, data), "local[2]");
        assertEquals(0, first.summary().resumed());
        assertEquals(2, first.records().stream().filter(r -> r.getAs("error") != null).count());
        assertOneRowPerKey(first.records(), 16);
        Path round = out.resolve("r");
        Map<String, byte[]> before = pngs(round.resolve("images"));
        assertEquals(30, before.size());

        // The image is repaired and one committed PNG disappears: its record file is dropped and
        // its batch redone, the error rows are retried, the rest is skipped.
        Files.write(data.resolve("images/0003.png"), good);
        Files.delete(round.resolve("images/mi/0005.png"));
        Rounds.Result second = Rounds.run(config(out, data), "local[2]");
        assertTrue(second.summary().resumed() > 0 && second.summary().resumed() < 30,
                "resumed " + second.summary().resumed());
        assertOneRowPerKey(second.records(), 16);
        assertTrue(second.records().stream().allMatch(r -> r.getAs("error") == null), "the repaired image is attacked");
        Map<String, byte[]> after = pngs(round.resolve("images"));
        assertEquals(32, after.size());
        for (Map.Entry<String, byte[]> e : before.entrySet()) {
            assertArrayEquals(e.getValue(), after.get(e.getKey()), e.getKey() + " changed on resume");
        }
        try (Stream<Path> s = Files.walk(round)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith("._tmp")), "temporary file left behind");
        }

        // Nothing left to do: a third run attacks nothing.
        Rounds.Result third = Rounds.run(config(out, data), "local[2]");
        assertEquals(32, third.summary().resumed());
        assertOneRowPerKey(third.records(), 16);

        // The same name with another configuration is refused, naming the attack.
        ConfigException e = assertThrows(ConfigException.class, () -> Rounds.run(config(out, data,
                "attacks=[{name=mi, eps=4}, {name=mi-di, input=[\"di(p=0.5, resize=1.1)\"]}]"), "local[2]"));
        assertTrue(e.getMessage().contains("attack 'mi'") && e.getMessage().contains("--force"), e.getMessage());

        // --force redoes everything, with the same bytes.
        Rounds.Result forced = Rounds.run(config(out, data), "local[2]", true);
        assertEquals(0, forced.summary().resumed());
        assertOneRowPerKey(forced.records(), 16);
        Map<String, byte[]> redone = pngs(round.resolve("images"));
        for (Map.Entry<String, byte[]> en : after.entrySet()) {
            assertArrayEquals(en.getValue(), redone.get(en.getKey()), en.getKey() + " differs after --force");
        }
        Row any = forced.records().get(0);
        assertNotNull(any.getAs("attack_spec"));
        assertNull(any.getAs("error"));
    }
}
