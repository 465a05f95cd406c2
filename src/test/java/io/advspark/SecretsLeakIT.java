package io.advspark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.CredentialKeys;
import io.advspark.testing.Scripts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No credential is ever echoed (issue 13, "must hold" 5): credential keys with distinctive fake
 * values (LEAKCANARY-...) through every route a user has (--set, a round file,
 * ADVSPARK_SUBMIT_OPTS, the environment, URI user-info), through a real round on the demo set via
 * spark-submit with the Spark event log on, a {@code --master} dry run, the nightly script's log
 * and refused configurations. Then every byte the runs produced (their output, every file under the
 * round's output, the event log, the launcher's temporary folder, the nightly log) is searched for
 * every value: zero hits.
 */
class SecretsLeakIT {
    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    /** Every fake value handed out, by route, so that a hit names where it went in. */
    private final Map<String, String> canaries = new LinkedHashMap<>();
    /** Everything the runs printed (stdout and stderr). */
    private final StringBuilder printed = new StringBuilder();

    private String canary(String route, String key) {
        String v = "LEAKCANARY-" + canaries.size();
        canaries.put(v, route + " " + key);
        return v;
    }

    /** Credential keys as Spark properties: Hadoop's through spark.hadoop., Spark's own as they are. */
    private static List<String> sparkKeys() {
        List<String> keys = new ArrayList<>();
        CredentialKeys.SECRET.forEach(k -> keys.add("spark.hadoop." + k));
        keys.addAll(CredentialKeys.SPARK_SECRET);
        return keys;
    }

    /** Where every launch writes its log file (ADVSPARK_LOG_DIR): searched like every other output. */
    private Path logDir;

    private Scripts.Result launch(List<String> cmd, Map<String, String> env) throws Exception {
        Map<String, String> withLog = new LinkedHashMap<>(env);
        withLog.put("ADVSPARK_LOG_DIR", logDir.toString());
        Scripts.Result r = Scripts.exec(cmd, withLog, TIMEOUT);
        printed.append(r.output()).append('\n'); // the output only: the command holds the canaries on purpose
        return r;
    }

    @Test
    void noCredentialIsEchoedAnywhere(@TempDir Path tmp) throws Exception {
        Path inputs = Files.createDirectories(tmp.resolve("inputs")); // holds canaries on purpose: not searched
        Path scanned = Files.createDirectories(tmp.resolve("scanned"));
        Path out = scanned.resolve("out");
        Path events = Files.createDirectories(scanned.resolve("events"));
        Path launcherTmp = Files.createDirectories(scanned.resolve("launcher-tmp"));
        logDir = Files.createDirectories(scanned.resolve("logs"));

        // Routes that reach Spark: spark-submit options, the environment, a URI with user-info.
        StringBuilder submitOpts = new StringBuilder();
        for (String k : sparkKeys()) {
            submitOpts.append(" --conf ").append(k).append('=').append(canary("ADVSPARK_SUBMIT_OPTS", k));
        }
        submitOpts.append(" --conf spark.advspark.test.uri=s3a://AKIAFAKE:").append(canary("ADVSPARK_SUBMIT_OPTS", "uri"))
                .append("@bucket/x");
        Map<String, String> env = new LinkedHashMap<>();
        for (String k : CredentialKeys.ENV_SECRET) {
            env.put(k, canary("environment", k));
        }
        env.put("ADVSPARK_SUBMIT_OPTS", submitOpts.toString());
        env.put("ADVSPARK_TMP", launcherTmp.toString());

        // 1. A real round on the demo set through spark-submit (local[2]), the event log on; unquoted
        // spark.conf keys (ignored before: no event log at all then).
        Scripts.Result round = launch(List.of("jobs/advspark", "attack", "-c", "src/test/resources/tiny-round.conf", "--master", "local[2]",
                "--set", "round.output=\"" + out + "\"", "--set", "round.id=leak", "--set", "dataset.limit=4",
                "--set", "attack.steps=2", "--set", "spark.conf.spark.eventLog.enabled=true",
                "--set", "spark.conf.spark.eventLog.dir=\"" + events.toUri() + "\""), env);
        assertEquals(0, round.exit(), round.output());
        assertTrue(round.output().contains("4 attacked, 0 failed"), round.output());
        List<Path> eventLogs;
        try (Stream<Path> s = Files.list(events)) {
            eventLogs = s.toList();
        }
        assertEquals(1, eventLogs.size(), "one event log, from the unquoted spark.conf keys: " + eventLogs);
        String eventLog = Files.readString(eventLogs.get(0));
        // The keys reached Spark and were masked there (not merely absent).
        for (String k : List.of("spark.hadoop.fs.s3a.encryption.key", "spark.hadoop.fs.azure.account.key.myaccount.dfs.core.windows.net",
                "spark.hadoop.fs.gs.auth.service.account.private.key", "spark.advspark.test.uri")) {
            assertTrue(eventLog.contains("\"" + k + "\":\"*********(redacted)\""), k + " masked in the event log");
        }

        // 2. A --master dry run: the printed spark-submit line with every route on it.
        List<String> dry = new ArrayList<>(List.of("jobs/advspark", "attack", "--master",
                "spark://sparkuser:" + canary("URI user-info", "--master") + "@127.0.0.1:7077"));
        for (String k : sparkKeys()) {
            dry.add("--set");
            dry.add("spark.conf.\"" + k + "\"=" + canary("--set (dry run)", k));
        }
        dry.addAll(List.of("--set", "round.output=s3a://AKIAFAKE:" + canary("URI user-info", "round.output") + "@bucket/x"));
        Map<String, String> dryEnv = new LinkedHashMap<>(env);
        dryEnv.put("ADVSPARK_DRY_RUN", "1");
        Scripts.Result printedLine = launch(dry, dryEnv);
        assertEquals(0, printedLine.exit(), printedLine.output());
        assertTrue(printedLine.output().contains("--conf spark.hadoop.fs.s3a.secret.key=REDACTED"), printedLine.output());
        Scripts.Result localDry = launch(List.of("jobs/advspark", "attack", "--master", "local[2]"), dryEnv);
        assertEquals(0, localDry.exit(), localDry.output());

        // 3. The nightly script appends the launcher's line and the report's errors to its log.
        Map<String, String> nightly = new LinkedHashMap<>(dryEnv);
        nightly.put("ADVSPARK_NIGHTLY_OUTPUT", scanned.resolve("nightly-out").toString());
        nightly.put("ADVSPARK_NIGHTLY_MASTER", "local[2]");
        nightly.put("ADVSPARK_NIGHTLY_LOGS", scanned.resolve("nightly-logs").toString());
        nightly.put("ADVSPARK_NIGHTLY_SET", "spark.conf.spark.hadoop.fs.s3a.secret.key=" + canary("ADVSPARK_NIGHTLY_SET", "--set"));
        nightly.put("ADVSPARK_NIGHTLY_DATE", "2026-01-02");
        launch(List.of("jobs/nightly-round", "conf/demo.conf"), nightly);
        String nightlyLog = Files.readString(scanned.resolve("nightly-logs/demo-2026-01-02.log"));
        assertTrue(nightlyLog.contains("advspark: running") && nightlyLog.contains("looks like a credential"), nightlyLog);

        // 4. Refused routes: the refusal names the key, never the value.
        List<String> fileLines = new ArrayList<>();
        List<String> sets = new ArrayList<>(List.of("jobs/advspark", "attack"));
        boolean quoted = false;
        for (String k : sparkKeys()) {
            String key = quoted ? "\"" + k + "\"" : k;
            fileLines.add("  " + key + " = \"" + canary("round file", k) + "\"");
            sets.add("--set");
            sets.add("spark.conf." + key + "=" + canary("--set spark.conf", k));
            quoted = !quoted;
        }
        Path roundFile = inputs.resolve("creds.conf");
        Files.writeString(roundFile, "advspark.spark.conf {\n" + String.join("\n", fileLines) + "\n}\n");
        Scripts.Result file = launch(List.of("jobs/advspark", "attack", "-c", roundFile.toString()), Map.of());
        assertEquals(2, file.exit(), file.output());
        assertTrue(file.output().contains("look like credentials") && file.output().contains("fs.s3a.encryption.key"),
                file.output());
        Scripts.Result set = launch(sets, Map.of());
        assertEquals(2, set.exit(), set.output());
        assertTrue(set.output().contains("look like credentials"), set.output());
        for (String k : sparkKeys()) {
            Scripts.Result unknown = launch(List.of("jobs/advspark", "attack", "--set", k + "=" + canary("--set", k)), Map.of());
            assertEquals(2, unknown.exit(), unknown.output());
        }
        for (String uri : List.of("round.output=\"s3a://AKIAFAKE:%s@bucket/x\"", "dataset.uri=\"s3a://AKIAFAKE:%s@bucket/x y\"")) {
            Scripts.Result r = launch(List.of("jobs/advspark", "attack", "--set", uri.formatted(canary("URI user-info", uri))),
                    Map.of());
            assertEquals(2, r.exit(), r.output());
        }

        // Zero hits: in everything printed, and in every byte of every file the runs wrote.
        List<String> hits = new ArrayList<>();
        search("output of the runs", printed.toString(), hits);
        List<String> searched = new ArrayList<>();
        try (Stream<Path> all = Files.walk(scanned)) {
            for (Path p : all.filter(Files::isRegularFile).toList()) {
                search(scanned.relativize(p).toString(), new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1), hits);
                searched.add(scanned.relativize(p).toString());
                if (p.toString().endsWith(".parquet")) {
                    // Compressed pages could hide a string from the byte search: decode the rows too.
                    String rows = parquetRows(p);
                    assertTrue(rows.contains(".png") || p.toString().contains("/attacks/"), p + ": " + rows);
                    search(scanned.relativize(p) + " (rows)", rows, hits);
                }
            }
        }
        System.out.println("searched: " + searched);
        assertEquals(4, searched.stream().filter(f -> f.startsWith("out/leak/images/") && f.endsWith(".png")).count(),
                searched.toString());
        assertTrue(searched.stream().anyMatch(f -> f.startsWith("out/leak/records/") && f.endsWith(".parquet"))
                && searched.stream().anyMatch(f -> f.startsWith("out/leak/attacks/") && f.endsWith(".parquet")),
                searched.toString());
        assertTrue(searched.stream().anyMatch(f -> f.startsWith("logs/advspark-") && f.endsWith(".log")),
                "the launchers' log files were searched: " + searched);
        assertTrue(canaries.size() > 5 * 10, "every route carried the key table: " + canaries.size());
        assertTrue(hits.isEmpty(), "credentials echoed:\n" + String.join("\n", hits));
    }

    private static String parquetRows(Path file) throws java.io.IOException {
        StringBuilder out = new StringBuilder();
        try (org.apache.parquet.hadoop.ParquetReader<org.apache.parquet.example.data.Group> r =
                org.apache.parquet.hadoop.ParquetReader.builder(new org.apache.parquet.hadoop.example.GroupReadSupport(),
                        new org.apache.hadoop.fs.Path(file.toUri())).build()) {
            for (org.apache.parquet.example.data.Group g = r.read(); g != null; g = r.read()) {
                out.append(g).append('\n');
            }
        }
        return out.toString();
    }

    private void search(String where, String text, List<String> hits) {
        // Not followed by a digit: LEAKCANARY-1 is a prefix of LEAKCANARY-12.
        for (Map.Entry<String, String> c : canaries.entrySet()) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(c.getKey()) + "(?![0-9])")
                    .matcher(text);
            if (m.find()) {
                int from = Math.max(0, m.start() - 120);
                hits.add(where + ": " + c.getKey() + " (" + c.getValue() + ") in ..."
                        + text.substring(from, Math.min(text.length(), m.end() + 40)).replace('\n', ' ') + "...");
            }
        }
    }
}
