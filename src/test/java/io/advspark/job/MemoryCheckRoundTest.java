package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.Rounds;
import io.advspark.vocabulary.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A round whose estimated memory per executor exceeds the available memory is refused before
 * any work, with the numbers and what to lower; {@code memory.check = warn} runs it anyway. A
 * tiny {@code memory.available} makes the estimate exceed it whatever the machine. Demo set only.
 */
class MemoryCheckRoundTest {

    private static List<Path> filesUnder(Path dir) throws Exception {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }

    @Test
    void roundAboveTheAvailableMemoryIsRefusedBeforeAnythingIsWritten(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        ConfigException e = assertThrows(ConfigException.class, () -> Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(),
                "round.output=\"" + out + "\"", "round.id=mem", "attack.name=si5", "attack.input=[\"si(copies=5)\"]",
                "memory.available=1m", "dataset.limit=2", "attack.steps=1"), "local[2]"));
        String m = e.getMessage();
        assertTrue(m.contains("round mem refused before any work") && m.contains("attack si5:"), m);
        // local[2] x min(64, batch 8 x 5 copies) rows
        assertTrue(m.contains("80 rows in flight per executor (2 task(s) x 40 rows per forward: batch 8 x 5 rows per image,"
                + " max-rows 64)"), m);
        assertTrue(m.contains("GiB available (memory.available)"), m);
        assertTrue(m.contains("max-rows") && m.contains("batch-size (now 8)") && m.contains("local[N]")
                && m.contains("memory.check = warn"), m);
        assertEquals(List.of(), filesUnder(out.resolve("mem")), "nothing written in the round folder");
    }

    @Test
    void warnRunsTheRoundAnyway(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        Rounds.Result r = Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), "round.output=\"" + out + "\"", "round.id=mem",
                "memory.available=1m", "memory.check=warn", "dataset.limit=2", "attack.steps=1"), "local[1]");
        assertEquals(2, r.records().size());
    }
}
