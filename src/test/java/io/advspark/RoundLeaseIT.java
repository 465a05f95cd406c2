package io.advspark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.round.RoundLayout;
import io.advspark.testing.Rounds;
import io.advspark.testing.S3ProxyServer;
import io.advspark.testing.Scripts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One writer per round, as users meet it: two launchers started together on one round id (they
 * once ran side by side and mixed eps 8 and eps 2 rows under one attack), {@code --force} against
 * a running round (it once deleted that round's committed work), on {@code file://}, and a second
 * writer on an {@code s3a://} round (s3proxy), where the lease is a put checked by reading back.
 */
class RoundLeaseIT {
    private static final Duration LIMIT = Duration.ofMinutes(6);

    private static List<String> attack(Object output, String... more) {
        List<String> cmd = new ArrayList<>(List.of("jobs/advspark", "attack", "-c", "src/test/resources/tiny-round.conf", "--set", "round.output=\"" + output + "\"",
                "--set", "round.id=shared", "--set", "threads=1", "--set", "spark.master=\"local[1]\""));
        for (String m : more) {
            cmd.add("--set");
            cmd.add(m);
        }
        return cmd;
    }

    private static String read(Path log) throws Exception {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    private static List<Row> records(String roundUri, Map<String, String> conf) {
        SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false")
                .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false").getOrCreate();
        conf.forEach((k, v) -> spark.sparkContext().hadoopConfiguration().set(k.replaceFirst("^spark\\.hadoop\\.", ""), v));
        try {
            return spark.read().parquet(roundUri + "/records").collectAsList();
        } finally {
            spark.stop();
            SparkSession.clearActiveSession();
            SparkSession.clearDefaultSession();
        }
    }

    @Test
    void twoLaunchersOnOneRoundCannotBothWrite(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        twoLaunchers(tmp, out.toString(), out.resolve("shared").toUri().toString(), Map.of(), Map.of());
        assertTrue(Files.notExists(out.resolve("shared").resolve(RoundLayout.LEASE)), "lease released at the end");
    }

    /**
     * On S3 the lease is a check, a put and a read-back (S3A 3.3.4 has no put-if-absent): two
     * launchers started together still end with one writer.
     */
    @Test
    void twoLaunchersOnOneS3RoundCannotBothWrite(@TempDir Path tmp) throws Exception {
        try (S3ProxyServer s3 = S3ProxyServer.start(S3ProxyServer.randomBucket("advspark-lease"))) {
            Map<String, String> s3a = s3.s3aSettings();
            StringBuilder opts = new StringBuilder();
            s3a.forEach((k, v) -> opts.append(" -D").append(k).append('=').append(v));
            String output = s3.uri("rounds");
            twoLaunchers(tmp, output, output + "/shared", Map.of("ADVSPARK_JAVA_OPTS", opts.toString().trim()), s3a);
            assertTrue(s3.listKeys(s3.bucket()).stream().noneMatch(k -> k.endsWith(RoundLayout.LEASE)),
                    "lease released at the end");
        } finally {
            FileSystem.closeAll();
        }
    }

    /** Starts two launchers with eps 8 and eps 2 on one round: one finishes, the other exits 4. */
    private static void twoLaunchers(Path tmp, String output, String roundUri, Map<String, String> env,
            Map<String, String> readConf) throws Exception {
        Process a = Scripts.start(attack(output, "attack.eps=8"), env, tmp.resolve("a.log"));
        Process b = Scripts.start(attack(output, "attack.eps=2"), env, tmp.resolve("b.log"));
        assertTrue(a.waitFor(LIMIT.toSeconds(), TimeUnit.SECONDS) && b.waitFor(LIMIT.toSeconds(), TimeUnit.SECONDS));
        String la = read(tmp.resolve("a.log"));
        String lb = read(tmp.resolve("b.log"));
        boolean aWon = a.exitValue() == 0;
        String winner = aWon ? la : lb;
        String loser = aWon ? lb : la;
        int loserExit = aWon ? b.exitValue() : a.exitValue();
        assertEquals(0, aWon ? a.exitValue() : b.exitValue(), "one launcher finishes:\n" + la + "\n----\n" + lb);
        assertEquals(4, loserExit, "the other is refused with exit 4:\n" + loser);
        assertTrue(loser.contains("advspark: round shared is in use by `advspark attack` on host")
                && loser.contains("--take-over"), loser);
        assertTrue(winner.contains("48 attacked, 0 failed"), winner);
        String eps = aWon ? "eps=8" : "eps=2";
        List<Row> rows = records(roundUri, readConf);
        assertEquals(48, rows.size(), "one row per image");
        Set<String> specs = new TreeSet<>();
        rows.forEach(r -> specs.add(r.getAs("attack_spec")));
        assertEquals(1, specs.size(), "one configuration in the records: " + specs);
        assertTrue(specs.iterator().next().contains(eps) || specs.iterator().next().contains(eps + ".0"),
                "the winner's eps " + eps + ": " + specs);
    }

    @Test
    void forceIsRefusedWhileTheRoundRuns(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        Path round = out.resolve("shared");
        // Long enough (150 steps, some 30 s) to still hold its lease when the second launcher's JVM
        // is up: the demo's 10 steps end in 2 s, before it.
        Process a = Scripts.start(attack(out, "attack.steps=150"), Map.of(), tmp.resolve("a.log"));
        try {
            // Wait for the first committed batch: --force would once have deleted it.
            long deadline = System.nanoTime() + LIMIT.toNanos();
            while (Rounds.committedParts(round.resolve("records")) == 0 && a.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertTrue(a.isAlive(), "the round ended before --force could be tried:\n" + read(tmp.resolve("a.log")));
            List<String> force = attack(out, "attack.steps=150");
            force.add("--force");
            String forced = Scripts.run(force, Map.of(), LIMIT, 4);
            assertTrue(forced.contains("is in use by"), forced);
        } finally {
            assertTrue(a.waitFor(LIMIT.toSeconds(), TimeUnit.SECONDS));
        }
        assertEquals(0, a.exitValue(), read(tmp.resolve("a.log")));
        assertTrue(read(tmp.resolve("a.log")).contains("48 attacked, 0 failed"));
        try (Stream<Path> s = Files.list(round.resolve("images/main"))) {
            assertEquals(48, s.count(), "the running round's work is intact");
        }
    }

}
