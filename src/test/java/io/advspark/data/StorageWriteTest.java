package io.advspark.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Local writes: atomic replace, parents created, no temporaries or .crc side files left. */
class StorageWriteTest {
    @TempDir
    Path dir;

    @Test
    void aLocalWriteReplacesTheFileWholeAndLeavesNothingElse() throws Exception {
        Storage s = Storage.of(new Configuration());
        String uri = dir.toUri() + "images/main/0001.png";
        s.writeAtomically(uri, new byte[] {1, 2, 3});
        s.writeAtomically(uri, new byte[] {4, 5});
        Path f = dir.resolve("images/main/0001.png");
        assertArrayEquals(new byte[] {4, 5}, Files.readAllBytes(f));
        assertArrayEquals(new byte[] {4, 5}, s.readAll(uri));
        try (Stream<Path> all = Files.walk(dir)) {
            List<String> files = all.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).toList();
            assertEquals(List.of("images/main/0001.png"), files);
        }
        // A plain path (no scheme) is a local file too.
        s.writeAtomically(dir.resolve("x/y.bin").toString(), new byte[] {7});
        assertArrayEquals(new byte[] {7}, Files.readAllBytes(dir.resolve("x/y.bin")));
    }
}
