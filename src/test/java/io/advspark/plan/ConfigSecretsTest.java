package io.advspark.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.CredentialKeys;
import io.advspark.util.Secrets;
import io.advspark.vocabulary.ConfigException;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code advspark.spark.conf} is read whole however its keys are written, every key meets the
 * credential check, and no configuration error shows a credential's value (issue 13, found items
 * 6 and 7).
 */
class ConfigSecretsTest {

    /** A round file's data and models (the demo's), which these files leave out. */
    private static final List<String> DATA = List.of("dataset.uri=demo/data", "models=[{path=demo/models/tiny_a.pt}]");

    private static Map<String, String> sparkConf(File file, String... overrides) {
        List<String> all = new java.util.ArrayList<>(file == null ? List.of() : DATA);
        all.addAll(List.of(overrides));
        return ConfigLoader.load(file, all).sparkConf();
    }

    private static ConfigException fails(File file, String... overrides) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.load(file, List.of(overrides)));
    }

    @Test
    void sparkConfKeysCountQuotedOrNot(@TempDir Path tmp) throws Exception {
        assertEquals("true", sparkConf(null, "spark.conf.spark.eventLog.enabled=true").get("spark.eventLog.enabled"));
        assertEquals("true", sparkConf(null, "spark.conf.\"spark.eventLog.enabled\"=true").get("spark.eventLog.enabled"));
        assertEquals("4", sparkConf(null, "advspark.spark.conf.spark.sql.shuffle.partitions=4")
                .get("spark.sql.shuffle.partitions"));

        Path f = tmp.resolve("r.conf");
        Files.writeString(f, """
                advspark.spark.conf {
                  spark.executor.memory = 8g
                  spark.eventLog { enabled = true, dir = "file:/tmp/ev" }
                  "spark.driver.memory" = 2g
                  spark.executorEnv.MALLOC_ARENA_MAX = 4
                }
                """);
        Map<String, String> c = sparkConf(f.toFile());
        assertEquals(Map.of("spark.executor.memory", "8g", "spark.eventLog.enabled", "true",
                "spark.eventLog.dir", "file:/tmp/ev", "spark.driver.memory", "2g",
                "spark.executorEnv.MALLOC_ARENA_MAX", "4"), c);

        // A later source wins for a key however either spelled it.
        assertEquals("16g", sparkConf(f.toFile(), "spark.conf.\"spark.executor.memory\"=16g").get("spark.executor.memory"));
        assertEquals("1g", sparkConf(f.toFile(), "spark.conf.spark.driver.memory=1g").get("spark.driver.memory"));
        assertEquals("3g", sparkConf(f.toFile(), "spark.conf.spark.driver.memory=1g",
                "spark.conf.\"spark.driver.memory\"=3g").get("spark.driver.memory"));
        assertEquals("8g", sparkConf(f.toFile(), "spark.conf.spark.driver.memory=1g").get("spark.executor.memory"),
                "the file's other keys stay");
    }

    @Test
    void oneKeyWrittenBothWaysInOneSourceIsAnError(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("r.conf");
        Files.writeString(f, "advspark.spark.conf { \"spark.executor.memory\" = 4g\n spark.executor.memory = 8g }\n");
        ConfigException e = fails(f.toFile());
        assertTrue(e.getMessage().contains("'advspark.spark.conf.\"spark.executor.memory\"' is set twice")
                && e.getMessage().contains("r.conf"), e.getMessage());
    }

    @Test
    void unquotedCredentialKeysAreRefusedToo(@TempDir Path tmp) throws Exception {
        ConfigException e = fails(null, "spark.conf.spark.hadoop.fs.s3a.secret.key=LEAKCANARY-1");
        assertTrue(e.getMessage().contains("'advspark.spark.conf.\"spark.hadoop.fs.s3a.secret.key\"'")
                && e.getMessage().contains("looks like a credential"), e.getMessage());
        assertFalse(e.getMessage().contains("LEAKCANARY"), e.getMessage());

        Path f = tmp.resolve("r.conf");
        Files.writeString(f, "advspark.spark.conf {\n  spark.hadoop.fs.azure.account.key.acct.blob.core.windows.net = LEAKCANARY-2\n"
                + "  spark.hadoop { fs.s3a.encryption.key = LEAKCANARY-3 }\n  spark.executor.memory = 8g\n}\n");
        e = fails(f.toFile());
        assertTrue(e.getMessage().contains("spark.hadoop.fs.azure.account.key.acct.blob.core.windows.net")
                && e.getMessage().contains("spark.hadoop.fs.s3a.encryption.key")
                && e.getMessage().contains("look like credentials") && e.getMessage().contains("r.conf"), e.getMessage());
        assertFalse(e.getMessage().contains("LEAKCANARY"), e.getMessage());
    }

    /** Every credential key of the table, through every way a configuration takes it: refused, its value never shown. */
    @Test
    void noConfigurationErrorShowsACredential(@TempDir Path tmp) throws Exception {
        int n = 0;
        for (String k : CredentialKeys.SECRET) {
            for (String key : List.of(k, "spark.hadoop." + k)) {
                String v = "LEAKCANARY-" + (++n);
                Path f = tmp.resolve("r" + n + ".conf");
                Files.writeString(f, "advspark.spark.conf { \"" + key + "\" = \"" + v + "\" }\n");
                Path g = tmp.resolve("u" + n + ".conf");
                Files.writeString(g, "advspark.spark.conf { " + key + " = " + v + " }\n");
                Path h = tmp.resolve("t" + n + ".conf");
                Files.writeString(h, "advspark { " + key + " = " + v + " }\n");
                List<ConfigException> errors = List.of(
                        fails(null, key + "=" + v),
                        fails(null, "advspark." + key + "=\"" + v + "\""),
                        fails(null, "spark.conf.\"" + key + "\"=" + v),
                        fails(null, "spark.conf." + key + "=" + v),
                        fails(null, "spark.conf={\"" + key + "\"=" + v + "}"),
                        fails(f.toFile()),
                        fails(g.toFile()),
                        fails(h.toFile()));
                for (ConfigException e : errors) {
                    assertFalse(e.getMessage().contains(v), key + ": " + e.getMessage());
                    assertFalse(Secrets.redactText(e.getMessage()).contains(v), key + ": " + e.getMessage());
                }
            }
        }
        for (String uri : List.of("s3a://AKIA:LEAKCANARY-U1@bucket/x", "s3a://AKIA:LEAKCANARY-U2@bucket/x y",
                "hdfs://LEAKCANARY-U3@nn:8020/x")) {
            for (String key : List.of("round.output", "dataset.uri")) {
                ConfigException e = fails(null, key + "=\"" + uri + "\"");
                assertFalse(e.getMessage().contains("LEAKCANARY"), e.getMessage());
            }
        }
    }

    @Test
    void ordinarySparkKeysStayAllowed() {
        for (String k : CredentialKeys.NOT_SECRET) {
            if (k.startsWith("spark.")) {
                assertEquals("x", sparkConf(null, "spark.conf.\"" + k + "\"=x").get(k), k);
            }
        }
    }
}
