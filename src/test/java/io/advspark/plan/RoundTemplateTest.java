package io.advspark.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.Rounds;
import io.advspark.vocabulary.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code advspark init}: the file it writes loads and runs as written, with what it read off the inputs. */
class RoundTemplateTest {
    private static final Path DEMO = Path.of("demo").toAbsolutePath();

    /** The first {@code n} demo images with their labels shifted by {@code shift} (0 or 1). */
    private static Path data(Path dir, int n, int shift) throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        List<String> lines = Files.readAllLines(DEMO.resolve("data/dev.csv"));
        List<String> out = new ArrayList<>(List.of(lines.get(0)));
        for (String l : lines.subList(1, n + 1)) {
            String[] f = l.split(",");
            Files.copy(DEMO.resolve("data/images").resolve(f[0]), images.resolve(f[0]));
            out.add(f[0] + "," + (Integer.parseInt(f[1]) + shift) + "," + (Integer.parseInt(f[2]) + shift));
        }
        Files.write(dir.resolve("dev.csv"), out);
        return dir;
    }

    private static Path model(Path dir, String name) throws Exception {
        Files.createDirectories(dir);
        Files.copy(DEMO.resolve("models/" + name + ".json"), dir.resolve(name + ".json"));
        return Files.copy(DEMO.resolve("models/" + name + ".pt"), dir.resolve(name + ".pt"));
    }

    @Test
    void theStarterFileLoadsAndRunsFromItsOwnFolder(@TempDir Path tmp) throws Exception {
        Path data = data(tmp.resolve("work/data"), 8, 0);
        Path a = model(tmp.resolve("work/models"), "tiny_a");
        Path c = model(tmp.resolve("work/models"), "tiny_c");
        Path file = tmp.resolve("rounds/first.conf");
        RoundTemplate.Written w = RoundTemplate.write(new RoundTemplate.Inputs(file, data, List.of(a), List.of(c)), false);
        assertEquals(8, w.rows());
        assertEquals(0, w.labelBase(), "a label 0 is in the manifest");
        String text = Files.readString(file);
        assertTrue(text.contains("uri = \"../work/data\"") && text.contains("path = \"../work/models/tiny_a.pt\""), text);

        RoundConfig cfg = ConfigLoader.load(file.toFile(), List.of());
        assertEquals("first", cfg.roundId());
        assertEquals(data.toUri().toString().replaceFirst("/$", ""), cfg.dataset().uri());
        assertEquals(tmp.resolve("rounds/out/first").toUri().toString().replaceFirst("/$", ""), cfg.roundUri());
        assertEquals(List.of("mi", "mi-di-ti"), cfg.attacks().stream().map(NamedAttack::name).toList());
        assertEquals(1, cfg.surrogates().size());
        assertEquals(3, cfg.targets().get(0).defenses().size());

        Rounds.Result r = Rounds.run(ConfigLoader.load(file.toFile(), List.of("attack.steps=2", "dataset.limit=4")), "local[1]");
        assertEquals(8, r.records().size(), "4 images x 2 attack configs");
        assertEquals(0, r.summary().failed());

        ConfigException exists = assertThrows(ConfigException.class,
                () -> RoundTemplate.write(new RoundTemplate.Inputs(file, data, List.of(a), List.of()), false));
        assertTrue(exists.getMessage().contains("exists"), exists.getMessage());
    }

    @Test
    void theLabelConventionIsReadOffTheLabels(@TempDir Path tmp) throws Exception {
        Path a = model(tmp.resolve("models"), "tiny_a");
        // Shifted by one, the labels run 1..6 over 6 classes: only 1-based fits.
        Path one = data(tmp.resolve("one"), 48, 1);
        RoundTemplate.Written w = RoundTemplate.write(new RoundTemplate.Inputs(tmp.resolve("one.conf"), one, List.of(a),
                List.of()), false);
        assertEquals(1, w.labelBase());
        assertEquals(1, ConfigLoader.load(tmp.resolve("one.conf").toFile(), List.of()).dataset().labelBase());

        Path bad = data(tmp.resolve("bad"), 4, 7);
        ConfigException e = assertThrows(ConfigException.class, () -> RoundTemplate.write(
                new RoundTemplate.Inputs(tmp.resolve("bad.conf"), bad, List.of(a), List.of()), false));
        assertTrue(e.getMessage().contains("neither 0-based nor 1-based"), e.getMessage());

        Files.delete(tmp.resolve("models/tiny_a.json"));
        ConfigException card = assertThrows(ConfigException.class, () -> RoundTemplate.write(
                new RoundTemplate.Inputs(tmp.resolve("x.conf"), one, List.of(a), List.of()), false));
        assertTrue(card.getMessage().contains("model card") && card.getMessage().contains("tiny_a.json"), card.getMessage());
    }

    @Test
    void classFoldersMakeAnImageFolderRound(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("folders");
        List<String> lines = Files.readAllLines(DEMO.resolve("data/dev.csv"));
        for (String l : lines.subList(1, 9)) {
            String[] f = l.split(",");
            Path c = Files.createDirectories(data.resolve("class" + f[1]));
            Files.copy(DEMO.resolve("data/images").resolve(f[0]), c.resolve(f[0]));
        }
        Path a = model(tmp.resolve("models"), "tiny_a");
        Path file = tmp.resolve("f.conf");
        RoundTemplate.Written w = RoundTemplate.write(new RoundTemplate.Inputs(file, data, List.of(a), List.of()), false);
        assertEquals(8, w.rows());
        assertTrue(w.note().contains("sorted order"), w.note());
        RoundConfig cfg = ConfigLoader.load(file.toFile(), List.of("attack.steps=1"));
        assertEquals("image-folder", cfg.dataset().layout());
        Rounds.Result r = Rounds.run(cfg, "local[1]");
        assertEquals(16, r.records().size(), "8 images x 2 attack configs");
        assertEquals(0, r.summary().failed());
    }
}
