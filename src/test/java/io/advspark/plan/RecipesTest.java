package io.advspark.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The recipe library: every {@code conf/recipes/<name>.conf} loads as a round of one attack named
 * {@code <name>} with the published budget, and {@code all.conf} holds every recipe as one attack
 * config of one round, the same typed configuration as the recipe alone.
 */
class RecipesTest {
    private static final Path RECIPES = Path.of("conf/recipes");
    /** A recipe takes its data and surrogates from --set (here the demo's, relative to the working folder). */
    private static final List<String> DATA = List.of("dataset.uri=demo/data", "models=[{path=demo/models/tiny_a.pt}]");

    @Test
    void everyRecipeLoadsAloneAndInTheRoundOfAll() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(RECIPES)) {
            files = s.filter(p -> p.toString().endsWith(".conf") && !p.getFileName().toString().equals("all.conf"))
                    .sorted().toList();
        }
        assertTrue(files.size() >= 10, files.toString());
        RoundConfig all = ConfigLoader.load(RECIPES.resolve("all.conf").toFile(), DATA);
        assertEquals(files.size(), all.attacks().size(), "all.conf runs every recipe");
        for (Path f : files) {
            String name = f.getFileName().toString().replaceFirst("\\.conf$", "");
            RoundConfig one = ConfigLoader.load(new File(f.toString()), DATA);
            assertEquals("recipe-" + name, one.roundId());
            assertEquals(1, one.attacks().size());
            NamedAttack a = one.attacks().get(0);
            assertEquals(name, a.name());
            assertEquals(16, a.config().epsPixels());
            assertEquals(10, a.config().steps());
            assertEquals(1.6, a.config().stepSizePixels(), 1e-12);
            NamedAttack inAll = all.attacks().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
            assertEquals(a.config(), inAll.config(), name);
            a.config().toAttack();
        }
    }
}
