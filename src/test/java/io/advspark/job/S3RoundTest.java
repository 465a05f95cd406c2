package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.data.ManifestRow;
import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.plan.ConfigLoader;
import io.advspark.plan.RoundConfig;
import io.advspark.testing.Fixtures;
import io.advspark.testing.LogCapture;
import io.advspark.testing.S3ProxyServer;
import io.advspark.vocabulary.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.logging.log4j.Level;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.jclouds.blobstore.domain.Blob;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Attack rounds whose output goes to S3 through {@code s3a://}, against a real S3 API server
 * (s3proxy, in this JVM on 127.0.0.1): outputs really land in the store and read back intact, an
 * unreachable store fails the round before any work, and credentials never show up in logs,
 * records or error messages.
 */
class S3RoundTest {
    /** The demo set of the repository; reference.conf's defaults point at it. */
    private static final java.nio.file.Path DEMO_DATA = java.nio.file.Path.of("demo", "data").toAbsolutePath();

    private SparkSession spark;
    private S3ProxyServer s3;

    @BeforeAll
    static void demoPresent() {
        assertTrue(Files.isRegularFile(DEMO_DATA.resolve("dev.csv")),
                "the repository's demo set is missing: " + DEMO_DATA + " (run from the project folder)");
        assertTrue(Files.isRegularFile(java.nio.file.Path.of("demo", "models", "tiny_a.pt")), "demo/models/tiny_a.pt missing");
    }

    @AfterEach
    void tearDown() throws IOException {
        stopSpark();
        if (s3 != null) {
            s3.close();
            s3 = null;
        }
    }

    private void stopSpark() throws IOException {
        if (spark != null) {
            spark.stop();
            spark = null;
        }
        SparkSession.clearActiveSession();
        SparkSession.clearDefaultSession();
        // Hadoop caches one FileSystem per scheme+bucket+user for the JVM, with the settings of
        // its first use (endpoint, keys): drop them so the next session's settings apply.
        FileSystem.closeAll();
    }

    /** The default (demo) round with its output under {@code output}. */
    private static RoundConfig demoRound(String output, String roundId, String... more) {
        List<String> overrides = new ArrayList<>();
        overrides.add("round.output = \"" + output + "\"");
        overrides.add("round.id = " + roundId);
        overrides.addAll(Arrays.asList(more));
        return ConfigLoader.load(io.advspark.testing.Rounds.TINY, overrides);
    }

    private SparkSession session(RoundConfig cfg, Map<String, String> s3a) {
        Map<String, String> extra = new LinkedHashMap<>(s3a);
        extra.put("spark.ui.enabled", "false");
        spark = Sessions.create(cfg, "local[2]", extra);
        return spark;
    }

    @Test
    void roundWritesImagesAndRecordsToS3AndReadsThemBack() throws Exception {
        s3 = S3ProxyServer.start(S3ProxyServer.randomBucket("advspark-round"));
        RoundConfig cfg = demoRound(s3.uri("rounds"), "s3-demo");
        assertEquals("s3a://" + s3.bucket() + "/rounds/s3-demo", cfg.roundUri());
        session(cfg, s3.s3aSettings());

        RoundSummary summary = AttackJob.run(cfg, spark);

        List<ManifestRow> manifest = Fixtures.manifest(DEMO_DATA, cfg.dataset().labelBase(), 0);
        assertEquals(48, manifest.size(), "demo manifest rows");
        assertTrue(manifest.stream().allMatch(ManifestRow::ok));
        Set<String> ids = manifest.stream().map(ManifestRow::imageId).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(manifest.size(), summary.images());
        assertEquals(0, summary.failed());
        double eps = cfg.attack().epsPixels();

        // Images, read back through s3a.
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        Path imagesDir = new Path(cfg.roundUri() + "/images/main");
        FileSystem fs = imagesDir.getFileSystem(hconf);
        assertEquals("s3a", fs.getUri().getScheme());
        Set<String> written = new TreeSet<>();
        for (FileStatus st : fs.listStatus(imagesDir)) {
            written.add(st.getPath().getName());
        }
        assertEquals(ids, written, "one PNG per manifest row under " + imagesDir);
        Map<String, Integer> linfOfPng = new HashMap<>();
        Map<String, byte[]> bytesViaS3a = new HashMap<>();
        int moved = 0;
        for (String id : ids) {
            byte[] bytes;
            try (FSDataInputStream in = fs.open(new Path(imagesDir, id))) {
                bytes = in.readAllBytes();
            }
            bytesViaS3a.put(id, bytes);
            RgbImage adv = Png.decode(bytes, imagesDir + "/" + id);
            RgbImage clean = Fixtures.image(DEMO_DATA, id);
            assertEquals(clean.height(), adv.height(), id + " height");
            assertEquals(clean.width(), adv.width(), id + " width");
            int linf = 0;
            byte[] a = adv.pixels();
            byte[] c = clean.pixels();
            for (int i = 0; i < a.length; i++) {
                linf = Math.max(linf, Math.abs((a[i] & 0xff) - (c[i] & 0xff)));
            }
            assertTrue(linf <= eps, id + ": max |adv - clean| = " + linf + " > eps " + eps);
            moved += linf > 0 ? 1 : 0;
            linfOfPng.put(id, linf);
        }
        assertTrue(moved > 0, "the attack changed no pixel of any image");

        // Records, read back through s3a.
        Dataset<Row> records = spark.read().parquet(cfg.roundUri() + "/records");
        List<Row> rows = records.collectAsList();
        assertEquals(manifest.size(), rows.size(), "one record per manifest row");
        Set<String> recordIds = new TreeSet<>();
        for (Row r : rows) {
            String id = r.getAs("image_id");
            assertTrue(recordIds.add(id), "duplicate record for " + id);
            assertNull(r.getAs("error"), id + ": " + r.getAs("error"));
            int linf = r.<Integer>getAs("linf");
            assertTrue(linf <= eps, id + ": linf " + linf + " > eps " + eps);
            assertEquals(linfOfPng.get(id), linf, id + ": recorded linf differs from the PNG in the store");
            assertEquals("images/main/" + id, r.getAs("output_file"));
            assertEquals("s3-demo", r.getAs("round_id"));
        }
        assertEquals(ids, recordIds);

        // The objects are in the server's store itself (jclouds BlobStore API, not Hadoop/HTTP).
        List<String> keys = s3.listKeys(s3.bucket());
        String prefix = "rounds/s3-demo/";
        for (String id : ids) {
            String key = prefix + "images/main/" + id;
            assertTrue(keys.contains(key), "blob " + key + " not in the store; keys: " + keys);
            Blob blob = s3.blobStore().getBlob(s3.bucket(), key);
            byte[] stored;
            try (InputStream in = blob.getPayload().openStream()) {
                stored = in.readAllBytes();
            }
            assertTrue(Arrays.equals(bytesViaS3a.get(id), stored), key + ": bytes in the store differ from s3a's");
        }
        List<String> parquet = keys.stream()
                .filter(k -> k.startsWith(prefix + "records/attack=main/part-") && k.endsWith(".parquet"))
                .toList();
        assertFalse(parquet.isEmpty(), "no Parquet part in the store: " + keys);
        // Nothing left behind: no write probe, no temporary names, no uncommitted task output.
        for (String k : keys) {
            assertFalse(k.contains("._advspark_write_probe_"), "probe left behind: " + k);
            assertFalse(k.contains("._tmp."), "temporary file left behind: " + k);
            assertFalse(k.contains("_temporary"), "uncommitted output left behind: " + k);
        }
    }

    @Test
    void unreachableOutputStoreFailsBeforeAnyImageIsProcessed() throws Exception {
        int port = S3ProxyServer.freePort(); // nothing listens there
        String bucket = S3ProxyServer.randomBucket("advspark-nowhere");
        String output = "s3a://" + bucket + "/rounds";
        RoundConfig cfg = demoRound(output, "unreachable");
        // S3A's own retry and timeout defaults, not the helper's test-sized ones: the bound must
        // hold for a real deployment (Storage.checkWritable caps them for its probe; before, a
        // dead endpoint took about 15 minutes to be reported).
        Map<String, String> s3a = new LinkedHashMap<>(S3ProxyServer.s3aSettings("http://127.0.0.1:" + port,
                S3ProxyServer.randomString("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 20),
                S3ProxyServer.randomString("abcdefghijklmnopqrstuvwxyz", 40)));
        s3a.keySet().removeIf(k -> k.contains("attempts") || k.contains("retry") || k.contains("timeout"));
        assertEquals(Set.of(), s3a.keySet().stream().filter(k -> k.matches(".*(retry|attempts|timeout).*"))
                .collect(Collectors.toSet()));
        session(cfg, s3a);
        AtomicInteger jobs = new AtomicInteger();
        AtomicInteger tasks = new AtomicInteger();
        spark.sparkContext().addSparkListener(new SparkListener() {
            @Override
            public void onJobStart(SparkListenerJobStart e) {
                jobs.incrementAndGet();
            }

            @Override
            public void onTaskStart(SparkListenerTaskStart e) {
                tasks.incrementAndGet();
            }
        });

        long t0 = System.nanoTime();
        ConfigException e = assertThrows(ConfigException.class, () -> AttackJob.run(cfg, spark));
        double seconds = (System.nanoTime() - t0) / 1e9;

        System.out.printf("unreachable store: failed after %.1f s: %s%n", seconds, e.getMessage());
        assertTrue(seconds < 60, "took " + seconds + " s to give up on the unreachable store");
        assertTrue(e.getMessage().contains(cfg.roundUri()), "message does not name " + cfg.roundUri() + ": " + e.getMessage());
        assertTrue(e.getMessage().contains("advspark.round.output"), "message does not name the key: " + e.getMessage());
        spark.sparkContext().listenerBus().waitUntilEmpty();
        assertEquals(0, jobs.get(), "a Spark job started although the output store is unreachable");
        assertEquals(0, tasks.get(), "a task ran although the output store is unreachable");
    }

    @Test
    void credentialsNeverLeakIntoLogsRecordsOrErrors() throws Exception {
        // Distinctive, random credentials: any occurrence anywhere is a leak.
        String accessKey = "AKIA" + S3ProxyServer.randomString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
        String secretKey = S3ProxyServer.randomString(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 40);
        s3 = S3ProxyServer.start(S3ProxyServer.randomBucket("advspark-secret"), accessKey, secretKey);

        String wrongSecret = new StringBuilder(secretKey).reverse().toString();
        List<String> recordStrings = new ArrayList<>();
        String failure;
        String failureMessage;
        String logs;
        int events;
        try (LogCapture capture = LogCapture.start(Level.INFO)) {
            System.err.println("capture-check-stderr");
            assertTrue(capture.console().contains("capture-check-stderr"), "stderr is not captured");
            // 1. A successful round with the right keys.
            RoundConfig cfg = demoRound(s3.uri("rounds"), "secret-ok", "dataset.limit = 8");
            Map<String, String> settings = new LinkedHashMap<>(s3.s3aSettings());
            // Spark then logs its whole configuration at INFO: its redaction must hold.
            settings.put("spark.logConf", "true");
            session(cfg, settings);
            RoundSummary summary = AttackJob.run(cfg, spark);
            assertEquals(8, summary.images());
            assertEquals(0, summary.failed());
            Dataset<Row> records = spark.read().parquet(cfg.roundUri() + "/records");
            List<String> stringColumns = Arrays.stream(records.schema().fields())
                    .filter(f -> f.dataType().equals(DataTypes.StringType))
                    .map(StructField::name)
                    .toList();
            assertTrue(stringColumns.containsAll(List.of("round_id", "attack_spec", "image_id", "error")), stringColumns.toString());
            List<Row> rows = records.collectAsList();
            assertEquals(8, rows.size());
            for (Row r : rows) {
                for (String c : stringColumns) {
                    String v = r.getAs(c);
                    if (v != null) {
                        recordStrings.add(c + "=" + v);
                    }
                }
            }
            stopSpark();

            // 2. The right access key with a wrong secret: the server refuses; the round must fail
            //    before any work, and its error must not carry either key. Another bucket, so that
            //    Hadoop's FileSystem cache cannot hand back a client with the right keys.
            String otherBucket = S3ProxyServer.randomBucket("advspark-secret2");
            s3.createBucket(otherBucket);
            RoundConfig bad = demoRound("s3a://" + otherBucket + "/rounds", "secret-bad");
            session(bad, S3ProxyServer.s3aSettings(s3.endpoint(), accessKey, wrongSecret));
            ConfigException e = assertThrows(ConfigException.class, () -> AttackJob.run(bad, spark));
            failureMessage = e.getMessage();
            StringWriter w = new StringWriter();
            e.printStackTrace(new PrintWriter(w));
            failure = w.toString();
            assertTrue(failureMessage.contains(bad.roundUri()), failureMessage);
            assertTrue(s3.listKeys(otherBucket).isEmpty(), "a refused client wrote " + s3.listKeys(otherBucket));
            stopSpark();
            logs = capture.all();
            events = capture.eventCount();
            assertTrue(!capture.events().isEmpty() && capture.events().contains("advspark: round secret-ok"),
                    "the log capture saw nothing of the round; it would prove nothing");
        }
        System.out.println("credential test: " + events + " log events inspected; failure was: " + failureMessage);

        for (String secret : List.of(accessKey, secretKey, wrongSecret)) {
            String what = secret.equals(accessKey) ? "access key" : "secret key";
            assertFalse(logs.contains(secret), "the " + what + " appears in the logs:\n" + excerpt(logs, secret));
            for (String v : recordStrings) {
                assertFalse(v.contains(secret), "the " + what + " appears in a record: " + v);
            }
            assertFalse(failure.contains(secret), "the " + what + " appears in the failure:\n" + failure);
        }
        // Nor in any object the rounds stored (Parquet footers, markers, images).
        for (String key : s3.listKeys(s3.bucket())) {
            byte[] bytes;
            try (InputStream in = s3.blobStore().getBlob(s3.bucket(), key).getPayload().openStream()) {
                bytes = in.readAllBytes();
            }
            String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
            assertFalse(text.contains(accessKey) || text.contains(secretKey), "a key is stored in object " + key);
        }
    }

    private static String excerpt(String text, String needle) {
        int i = text.indexOf(needle);
        int from = Math.max(0, text.lastIndexOf('\n', Math.max(0, i - 1)) - 400);
        return text.substring(from, Math.min(text.length(), i + needle.length() + 400));
    }
}
