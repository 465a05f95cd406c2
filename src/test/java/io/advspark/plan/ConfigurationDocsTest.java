package io.advspark.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/configuration.md's key reference is what reference.conf generates, and names every key. */
class ConfigurationDocsTest {

    @Test
    void theCommittedKeyReferenceIsCurrent() throws Exception {
        String page = Files.readString(Path.of("docs/configuration.md"));
        assertEquals(ConfigurationDocs.apply(page), page,
                "docs/configuration.md differs from reference.conf: run tools/generate-docs and commit the result");
    }

    @Test
    void everyKeyOfTheDefaultsHasARow() throws Exception {
        String table = ConfigurationDocs.table();
        Config reference = ConfigFactory.parseResources(ConfigurationDocs.class, "/reference.conf").getConfig("advspark");
        for (var e : reference.entrySet()) {
            String key = e.getKey().replace("\"", "");
            // columns { ... } is one key with an object default; so are grid and spark.conf when empty.
            String shown = key.startsWith("dataset.columns.") ? "dataset.columns" : key;
            assertTrue(table.contains("`" + shown + "`"), "no row for " + key);
        }
        for (String empty : new String[] {"grid", "spark.conf", "models", "attacks"}) {
            assertTrue(table.contains("`" + empty + "`"), "no row for " + empty);
        }
    }
}
