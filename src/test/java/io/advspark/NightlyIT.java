package io.advspark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.S3ProxyServer;
import io.advspark.testing.Scripts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jobs/nightly-round, as the cron line of jobs/nightly.cron calls it, against a real S3 server
 * (s3proxy on loopback): the dated round lands on s3a://, the leaderboard is printed and kept,
 * and a second run of the same night resumes instead of redoing the round. Demo set only.
 */
class NightlyIT {

    private static String run(Map<String, String> env, Path logs) throws Exception {
        Scripts.Result r = Scripts.exec(List.of("jobs/nightly-round", "conf/demo-evaluate.conf"), env, Duration.ofMinutes(10));
        System.out.println(r.output());
        assertEquals(0, r.exit(), r.output() + "\n" + Files.readString(logs.resolve("demo-evaluate-2026-11-25.log")));
        return r.output();
    }

    @Test
    void theNightlyScriptWritesADatedRoundToS3AndResumes(@TempDir Path tmp) throws Exception {
        try (S3ProxyServer s3 = S3ProxyServer.start("nightly-" + Long.toHexString(System.nanoTime()))) {
            Path logs = tmp.resolve("logs");
            StringBuilder set = new StringBuilder();
            for (String k : List.of("fs.s3a.endpoint", "fs.s3a.endpoint.region", "fs.s3a.path.style.access",
                    "fs.s3a.connection.ssl.enabled")) {
                set.append("spark.conf.\"spark.hadoop.").append(k).append("\"=\"")
                        .append(s3.s3aSettings().get("spark.hadoop." + k)).append("\";");
            }
            set.append("spark.conf.\"spark.hadoop.fs.s3a.aws.credentials.provider\"="
                    + "\"com.amazonaws.auth.EnvironmentVariableCredentialsProvider\"");
            Map<String, String> env = Map.of(
                    "ADVSPARK_NIGHTLY_OUTPUT", "s3a://" + s3.bucket() + "/advspark/nightly",
                    "ADVSPARK_NIGHTLY_DATE", "2026-11-25",
                    "ADVSPARK_NIGHTLY_LOGS", logs.toString(),
                    "ADVSPARK_NIGHTLY_SET", set.toString(),
                    "AWS_ACCESS_KEY_ID", s3.accessKey(),
                    "AWS_SECRET_ACCESS_KEY", s3.secretKey());
            String first = run(env, logs);
            assertTrue(first.contains("advspark leaderboard: round demo-evaluate-2026-11-25"), first);
            assertTrue(first.lines().anyMatch(l -> l.trim().startsWith("1  main")), first);
            assertTrue(Files.readString(logs.resolve("demo-evaluate-2026-11-25.leaderboard.txt")).contains("1  main"));

            String prefix = "advspark/nightly/demo-evaluate-2026-11-25/";
            List<String> keys = s3.listKeys(s3.bucket());
            assertEquals(48, keys.stream().filter(k -> k.startsWith(prefix + "images/main/") && k.endsWith(".png")).count(),
                    keys.toString());
            for (String t : List.of("records/attack=main/", "predictions/attack=main/", "scores/attack=main/", "summary/",
                    "attacks/")) {
                assertTrue(keys.stream().anyMatch(k -> k.startsWith(prefix + t) && k.endsWith(".parquet")), t + ": " + keys);
            }

            run(env, logs);
            String log = Files.readString(logs.resolve("demo-evaluate-2026-11-25.log"));
            // Told before Spark starts, from the records and the evaluation's stamp in the store.
            assertTrue(log.contains("round demo-evaluate-2026-11-25 is complete and its evaluation is up to date: nothing"
                    + " to do"), log);
        }
    }
}
