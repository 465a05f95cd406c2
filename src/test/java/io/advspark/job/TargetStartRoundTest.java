package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.testing.LogCapture;
import io.advspark.testing.Rounds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.logging.log4j.Level;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code target} start through Spark: every image starts from the image of its target class
 * with the smallest ImageId, read from storage wherever it lives (another partition, or past
 * {@code dataset.limit}), resized when its size differs; an image whose target class has no
 * usable image (none in the manifest, or an unreadable file) starts from itself, with a warning. With one step of 0.01 levels, the written PNG is the start itself: for
 * {@code alpha=1} the guide's pixels projected into the clean image's eps-ball, which the test
 * computes from the files alone. Uses only the repository's demo set.
 */
class TargetStartRoundTest {
    private static final Path DEMO = Path.of("demo").toAbsolutePath();

    @Test
    void eachImageStartsFromItsTargetClassImageWhereverItIs(@TempDir Path tmp) throws Exception {
        Path data = Files.createDirectories(tmp.resolve("data/images"));
        // ImageId <- demo image (its class); row: ImageId,TrueLabel,TargetClass.
        Map<String, String> copies = Map.of("a.png", "0000.png", "b.png", "0001.png", "c.png", "0002.png",
                "d.png", "0006.png", "e.png", "0003.png", "f.png", "0007.png", "g.png", "0005.png", "h.png", "0011.png",
                "0-corrupt.png", "0009.png");
        for (var e : copies.entrySet()) {
            Files.copy(DEMO.resolve("data/images").resolve(e.getValue()), data.resolve(e.getKey()));
        }
        Files.writeString(data.resolve("0-corrupt.png"), "not a png");
        // A flat 32x32 image of class 2, smaller than the 64x64 images: resized, it stays flat.
        byte[] flat = new byte[3 * 32 * 32];
        for (int i = 0; i < flat.length; i++) {
            flat[i] = (byte) new int[] {200, 40, 120}[i / (32 * 32)];
        }
        Files.write(data.resolve("0-flat.png"), Png.encode(new RgbImage(32, 32, flat)));
        Files.writeString(tmp.resolve("data/dev.csv"), String.join("\n",
                "ImageId,TrueLabel,TargetClass",
                "a.png,0,1", // guide b.png (partitions: a b | c d | e f)
                "b.png,1,5", // guide g.png: only past the limit
                "c.png,2,0", // guide a.png, another partition
                "d.png,0,2", // guide 0-flat.png (past the limit, 32x32: resized)
                "e.png,3,4", // no image of class 4: starts from itself
                "f.png,1,3", // guide 0-corrupt.png (smallest id of class 3) cannot be read: itself
                "h.png,5,1", // past the limit from here on
                "g.png,5,0",
                "0-corrupt.png,3,0",
                "0-flat.png,2,1") + "\n");
        Path out = tmp.resolve("out");
        Rounds.Result r;
        try (LogCapture log = LogCapture.start(Level.WARN)) {
            r = Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), "dataset.uri=\"" + tmp.resolve("data") + "\"",
                    "round.output=\"" + out + "\"", "round.id=target-start", "dataset.limit=6", "dataset.partitions=3",
                    "batch-size=2", "attack.objective=targeted", "attack.init=\"target(alpha=1.0)\"",
                    "attack.steps=1", "attack.step-size=0.01"), "local[2]");
            String all = log.all();
            assertTrue(all.contains("no usable image of target class(es) [4]"), all);
            assertTrue(all.contains("0-corrupt.png cannot be read"), all);
        }
        assertEquals(6, r.records().size());
        assertEquals(0, r.summary().failed());
        Map<String, String> guideOf = Map.of("a.png", "b.png", "b.png", "g.png", "c.png", "a.png", "d.png", "0-flat.png");
        for (String id : new String[] {"a.png", "b.png", "c.png", "d.png", "e.png", "f.png"}) {
            Row rec = r.record(id);
            assertNull(rec.getAs("error"), id);
            assertTrue(((String) rec.getAs("attack_spec")).contains("init=target(alpha=1.0)"), (String) rec.getAs("attack_spec"));
            RgbImage clean = read(data.resolve(id));
            RgbImage written = read(out.resolve("target-start/images/main").resolve(id));
            String guide = guideOf.get(id);
            byte[] want = clean.pixels().clone();
            if (guide != null) {
                RgbImage gi = read(data.resolve(guide));
                for (int i = 0; i < want.length; i++) {
                    int c = clean.pixels()[i] & 0xff;
                    int g = gi.height() == clean.height() ? gi.pixels()[i] & 0xff : gi.pixels()[i / (64 * 64) * 32 * 32] & 0xff;
                    want[i] = (byte) Math.min(Math.max(g, c - 8), c + 8);
                }
            }
            assertArrayEquals(want, written.pixels(), id + " should start from " + (guide == null ? "itself" : guide));
            assertEquals(guide == null ? 0 : 8, (int) rec.getAs("linf"), id);
        }
    }

    private static RgbImage read(Path p) throws Exception {
        return Png.decode(Files.readAllBytes(p), p.toString());
    }
}
