package io.advspark.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A duplicate ImageId refuses the manifest, naming the file and both lines (issue 13, found item 8). */
class ManifestDuplicatesTest {

    private static List<ManifestRow> parse(String csv, int limit) throws IOException {
        return Manifest.parse(new ByteArrayInputStream(csv.getBytes(StandardCharsets.UTF_8)), "dev.csv", 0, 6, limit);
    }

    private static final String CSV = """
            ImageId,TrueLabel,TargetClass
            0005.png,0,1
            0007.png,1,2

            0008.png,2,3
            bad line with "quote,1,2
            0009.png,x,3
            0010.png,1,2
            0007.png,3,4
            """;

    @Test
    void aDuplicateImageIdNamesBothLines() {
        IOException e = assertThrows(Manifest.ManifestException.class, () -> parse(CSV, 0));
        assertTrue(e.getMessage().startsWith("dev.csv: ImageId '0007.png' is on line 3 and line 9"), e.getMessage());
    }

    @Test
    void beyondTheLimitToo() {
        IOException e = assertThrows(Manifest.ManifestException.class, () -> parse(CSV, 2));
        assertTrue(e.getMessage().contains("ImageId '0007.png' is on line 3 and line 9"), e.getMessage());
    }

    @Test
    void distinctIdsParseAsBefore() throws IOException {
        List<ManifestRow> rows = parse(CSV.replace("0007.png,3,4", "0011.png,3,4"), 0);
        assertEquals(7, rows.size());
        assertEquals(2, rows.stream().filter(r -> !r.ok()).count(), "the bad rows stay rows with an error");
        assertEquals(2, parse(CSV.replace("0007.png,3,4", "0011.png,3,4"), 2).size());
    }
}
