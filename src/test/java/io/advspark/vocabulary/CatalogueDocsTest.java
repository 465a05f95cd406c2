package io.advspark.vocabulary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The committed reference pages are exactly what the catalogue generates. */
class CatalogueDocsTest {

    @Test
    void committedPagesMatchTheCatalogue() throws Exception {
        for (Map.Entry<String, String> page : CatalogueDocs.pages().entrySet()) {
            Path file = Path.of("docs", page.getKey());
            String committed = Files.exists(file) ? Files.readString(file) : "(missing)";
            assertEquals(page.getValue(), committed, "docs/" + page.getKey() + " differs from the catalogue: run "
                    + CatalogueDocs.COMMAND + " and commit the result");
        }
    }

    @Test
    void testOnlyPartsAreNotDocumented() {
        assertFalse(CatalogueDocs.pages().get("attack-parts.md").contains("example-noop"));
    }
}
