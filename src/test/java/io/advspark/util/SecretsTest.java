package io.advspark.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.CredentialKeys;
import io.advspark.testing.Scripts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one redaction rule, in Java and in its bash twin (jobs/secrets.sh), over one key table. */
class SecretsTest {

    /** Every secret key, bare and as Spark passes Hadoop keys; the environment names; upper case. */
    private static List<String> secretKeys() {
        List<String> keys = new ArrayList<>();
        for (String k : CredentialKeys.SECRET) {
            keys.add(k);
            keys.add("spark.hadoop." + k);
        }
        keys.addAll(CredentialKeys.SPARK_SECRET);
        keys.addAll(CredentialKeys.ENV_SECRET);
        keys.add("SPARK.HADOOP.FS.S3A.SECRET.KEY");
        keys.add("\"spark.hadoop.fs.s3a.encryption.key\"");
        keys.add("advspark.spark.conf.\"spark.hadoop.fs.azure.account.key.acct.blob.core.windows.net\"");
        return keys;
    }

    @Test
    void theRuleMasksEveryCredentialKeyAndNoOrdinaryOne() {
        assertTrue(CredentialKeys.SECRET.size() >= 10);
        for (String k : secretKeys()) {
            assertTrue(Secrets.isSecretKey(k), k + " is a credential");
            assertEquals(k + "=" + Secrets.MASK, Secrets.redactAssignment(k + "=LEAKCANARY-1"));
        }
        for (String k : CredentialKeys.NOT_SECRET) {
            assertFalse(Secrets.isSecretKey(k), k + " is not a credential");
            assertEquals(k + "=8g", Secrets.redactAssignment(k + "=8g"));
        }
    }

    @Test
    void argumentsTextAndUris() {
        assertEquals("--conf=spark.hadoop.fs.s3a.secret.key=" + Secrets.MASK,
                Secrets.redactAssignment("--conf=spark.hadoop.fs.s3a.secret.key=a=b"));
        assertEquals("-Dspark.hadoop.fs.azure.account.key.x=" + Secrets.MASK,
                Secrets.redactAssignment("-Dspark.hadoop.fs.azure.account.key.x=abc"));
        assertEquals("round.output=s3a://" + Secrets.MASK + "@bucket/x",
                Secrets.redactAssignment("round.output=s3a://AKIA:LEAKCANARY-2@bucket/x"));
        assertEquals("spark://" + Secrets.MASK + "@host:7077", Secrets.redactAssignment("spark://user:pw@host:7077"));
        assertEquals("s3a://bucket/a@b/c", Secrets.redactUris("s3a://bucket/a@b/c"), "an @ in a path is not user-info");
        String text = "unknown key at --set fs.s3a.secret.key=LEAKCANARY-3: 1, and \"fs.s3a.encryption.key\" = \"LEAK CANARY\","
                + " see hdfs://u:LEAKCANARY-4@nn:8020/p; spark.executor.memory=8g; credentials: pass them";
        String red = Secrets.redactText(text);
        assertFalse(red.contains("LEAK"), red);
        assertTrue(red.contains("spark.executor.memory=8g") && red.contains("credentials: pass them"), red);
        assertEquals(red, Secrets.redactText(red), "idempotent");
    }

    @Test
    void sparksRedactionRegexKeepsItsDefaultsAndCoversTheTable() {
        Pattern spark = Pattern.compile(Secrets.SPARK_REDACTION_REGEX);
        for (String k : secretKeys()) {
            // Spark sees property names as they are, never HOCON-quoted.
            assertTrue(spark.matcher(k.replace("\"", "")).find(), "spark.redaction.regex misses " + k);
        }
        // Spark's default: (?i)secret|password|token|access[.]key
        for (String k : List.of("x.SECRET", "a.password", "b.token", "fs.s3a.access.key")) {
            assertTrue(spark.matcher(k).find(), k);
        }
        assertFalse(spark.matcher("spark.executor.memory").find());
        // A value with URI user-info is masked whole, whatever its key.
        assertTrue(spark.matcher("s3a://AKIA:pw@bucket/x").find());
        assertFalse(spark.matcher("s3a://bucket/x").find());
    }

    /** jobs/secrets.sh classifies and masks exactly as this class does, key by key. */
    @Test
    void theLaunchersBashRuleAgrees(@TempDir Path tmp) throws Exception {
        List<String> keys = new ArrayList<>(secretKeys());
        keys.addAll(CredentialKeys.NOT_SECRET);
        List<String> words = new ArrayList<>();
        for (String k : keys) {
            words.add(k + "=LEAKCANARY-5");
        }
        words.addAll(List.of("--conf=spark.hadoop.fs.s3a.secret.key=a=b", "round.output=s3a://AKIA:pw@bucket/x",
                "spark://u:p@h:7077", "a=hdfs://u@nn/x,s3a://k:s@b/y", "s3a://bucket/a@b/c", "--class", "plain"));
        Path keyFile = tmp.resolve("keys.txt");
        Path wordFile = tmp.resolve("words.txt");
        Files.write(keyFile, keys, StandardCharsets.UTF_8);
        Files.write(wordFile, words, StandardCharsets.UTF_8);
        String script = "source jobs/secrets.sh\n"
                + "while IFS= read -r k; do if advspark_secret_key \"$k\"; then echo \"1 $k\"; else echo \"0 $k\"; fi; done < '"
                + keyFile + "'\n"
                + "while IFS= read -r w; do echo \"W $(advspark_redact_word \"$w\")\"; done < '" + wordFile + "'\n";
        Scripts.Result r = Scripts.exec(List.of("bash", "-c", script), Map.of(), Duration.ofSeconds(60));
        assertEquals(0, r.exit(), r.output());
        List<String> expected = new ArrayList<>();
        for (String k : keys) {
            expected.add((Secrets.isSecretKey(k) ? "1 " : "0 ") + k);
        }
        for (String w : words) {
            expected.add("W " + Secrets.redactAssignment(w));
        }
        assertEquals(String.join("\n", expected), r.output().strip());
    }
}
