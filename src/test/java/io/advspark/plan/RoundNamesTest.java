package io.advspark.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.Rounds;
import io.advspark.vocabulary.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Round ids and attack names name folders: '.' and '..' once escaped the output root, and
 * {@code --force} then deleted a user's files beside it. They are refused at load time now.
 */
class RoundNamesTest {

    @Test
    void dotNamesAreRefusedBeforeAnythingIsTouched(@TempDir Path tmp) throws Exception {
        Path root = tmp.resolve("root");
        Files.createDirectories(tmp.resolve("images"));
        Files.writeString(tmp.resolve("images/precious.txt"), "x");
        String out = "round.output=\"" + root + "\"";
        for (String id : List.of("..", ".", "-x", "a/b")) {
            ConfigException e = assertThrows(ConfigException.class, () -> Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), out, "round.id=\"" + id + "\""));
            assertTrue(e.getMessage().startsWith("advspark.round.id '" + id + "'"), e.getMessage());
        }
        for (String name : List.of("..", ".")) {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), out, "attack.name=\"" + name + "\""));
            assertTrue(e.getMessage().contains(".name '" + name + "' must start with a letter or digit"), e.getMessage());
        }
        ConfigException e = assertThrows(ConfigException.class,
                () -> Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), "round.output=\"s3a://bucket/out/../x\""));
        assertTrue(e.getMessage().contains("contains a '..' segment"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), out, "round.id=" + "r".repeat(129)));
        assertTrue(e.getMessage().contains("longer than 128"), e.getMessage());
        assertEquals("x", Files.readString(tmp.resolve("images/precious.txt")));
        assertTrue(Files.notExists(root));
        // A local output with '..' steps is resolved to a plain absolute path, inside which the round lives.
        assertEquals(tmp.resolve("r").toUri().toString().replaceFirst("/$", ""),
                Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), "round.output=\"" + root + "/..\"", "round.id=r").roundUri());
    }
}
