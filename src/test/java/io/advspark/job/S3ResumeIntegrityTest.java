package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.plan.ConfigLoader;
import io.advspark.plan.RoundConfig;
import io.advspark.testing.LogCapture;
import io.advspark.testing.S3ProxyServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.logging.log4j.Level;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The resume's integrity checks on {@code s3a://} (s3proxy on loopback): PNG lengths from one
 * listing, an unreadable record file moved aside by the store's rename (copy and delete), and
 * {@code --verify} reading the PNGs back through S3A on the executors.
 */
class S3ResumeIntegrityTest {
    private SparkSession spark;
    private S3ProxyServer s3;

    @AfterEach
    void tearDown() throws IOException {
        if (spark != null) {
            spark.stop();
        }
        SparkSession.clearActiveSession();
        SparkSession.clearDefaultSession();
        FileSystem.closeAll(); // cached S3A clients carry this server's endpoint
        if (s3 != null) {
            s3.close();
        }
    }

    private static byte[] read(FileSystem fs, Path p) throws IOException {
        try (InputStream in = fs.open(p)) {
            return in.readAllBytes();
        }
    }

    private static void write(FileSystem fs, Path p, byte[] bytes) throws IOException {
        try (OutputStream out = fs.create(p, true)) {
            out.write(bytes);
        }
    }

    @Test
    void damagedPngAndUnreadableRecordFileAreRedoneOnS3() throws Exception {
        s3 = S3ProxyServer.start(S3ProxyServer.randomBucket("advspark-resume"));
        RoundConfig cfg = ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of("round.output=\"" + s3.uri("rounds") + "\"", "round.id=r",
                "dataset.limit=8", "batch-size=4", "attack.steps=2", "threads=1"));
        Map<String, String> extra = new LinkedHashMap<>(s3.s3aSettings());
        extra.put("spark.ui.enabled", "false");
        spark = Sessions.create(cfg, "local[2]", extra);
        AttackJob.run(cfg, spark);

        Path round = new Path(cfg.roundUri());
        FileSystem fs = round.getFileSystem(spark.sparkContext().hadoopConfiguration());
        Path png = new Path(round, "images/main/0001.png");
        byte[] good = read(fs, png);
        write(fs, png, Arrays.copyOf(good, good.length / 2));
        List<Path> records = new ArrayList<>();
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(new Path(round, "records"), true);
        while (it.hasNext()) {
            records.add(it.next().getPath());
        }
        records.sort(null);
        // The record file that does not hold 0001.png: both damages are found in one resume.
        Path bad = null;
        long redo = 0;
        for (Path p : records) {
            long n = spark.read().parquet(p.toString()).count();
            if (!spark.read().parquet(p.toString()).where("image_id = '0001.png'").isEmpty()) {
                redo += n;
            } else if (bad == null) {
                bad = p;
                redo += n;
            }
        }
        assertTrue(bad != null, "two record files or more: " + records);
        byte[] badBytes = read(fs, bad);
        write(fs, bad, Arrays.copyOf(badBytes, badBytes.length / 2));

        try (LogCapture log = LogCapture.start(Level.INFO)) {
            RoundSummary s = AttackJob.run(cfg, spark);
            assertEquals(8 - redo, s.resumed(), "both batches redone, the others skipped");
            assertTrue(log.events().contains("images/main/0001.png is " + good.length / 2 + " bytes"), log.events());
            assertTrue(log.events().contains(bad.getName() + " cannot be read"), log.events());
            assertFalse(log.events().contains("Exception in task"), "no failed Spark task");
        }
        assertArrayEquals(good, read(fs, png), "redone with the same bytes");
        Path aside = new Path(round, "corrupt/records/attack=main/corrupt-" + bad.getName());
        assertArrayEquals(Arrays.copyOf(badBytes, badBytes.length / 2), read(fs, aside), "moved aside, kept");
        List<Row> rows = spark.read().parquet(cfg.roundUri() + "/records").collectAsList();
        Set<String> keys = new HashSet<>();
        rows.forEach(r -> assertTrue(keys.add(r.<String>getAs("image_id")), "duplicate " + r));
        assertEquals(8, rows.size());
        for (FileStatus st : fs.listStatus(new Path(round, "images/main"))) {
            assertTrue(st.getLen() > 0, st.getPath().toString());
        }

        // --verify reads every PNG back through S3A: all intact, nothing redone.
        assertEquals(8, AttackJob.run(cfg, spark, false, true).resumed());
    }
}
