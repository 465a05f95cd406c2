package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.attack.augment.Augments;
import io.advspark.data.Storage;
import io.advspark.model.ModelLoader;
import io.advspark.plan.ModelSpec;
import io.advspark.testing.Rounds;
import io.advspark.testing.Shared;
import io.advspark.vocabulary.Catalogue;
import io.advspark.vocabulary.ConfigException;
import io.advspark.vocabulary.Kind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code attack.augment = ["dropout(p)"]} through whole rounds on the repository's demo set: a
 * traced surrogate is refused before any image is processed, with the spec and the file named;
 * the shipped dropout round (scripted ghost_b with dropout next to a traced tiny_a kept out of it)
 * runs and a rerun writes byte-identical PNGs.
 */
class DropoutRoundTest {
    private static final Path DEMO = Path.of("demo").toAbsolutePath();

    @Test
    void dropoutOnATracedSurrogateFailsBeforeAnyImage(@TempDir Path tmp) {
        Path out = tmp.resolve("out");
        // The demo round's surrogates are traced (tools/make_demo.py uses torch.jit.trace).
        ConfigException e = assertThrows(ConfigException.class, () -> Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(),
                "attack.augment=[\"dropout(p=0.1)\"]", "round.output=\"" + out + "\""), "local[1]"));
        String msg = e.getMessage();
        System.out.println("traced surrogate refused: " + msg);
        assertTrue(msg.contains("'dropout(p=0.1)'") && msg.contains("tiny_a.pt") && msg.contains("[forward]")
                && msg.contains("traced"), msg);
        assertFalse(Files.exists(out.resolve("demo/images")), "no image was processed");

        // A scripted model whose masked forward ignores the masks is caught by the probe as well;
        // and the per-model switch lets a traced model sit in the ensemble without dropout.
        ConfigException e2 = assertThrows(ConfigException.class, () -> Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(),
                "attack.augment=[\"dropout(p=0.1)\"]", "round.output=\"" + out + "\"",
                "models=[{path=\"" + DEMO.resolve("models/ghost_b.pt") + "\"}, {path=\""
                        + DEMO.resolve("models/tiny_b.pt") + "\"}]"), "local[1]"));
        assertTrue(e2.getMessage().contains("tiny_b.pt") && !e2.getMessage().contains("ghost_b.pt"), e2.getMessage());
    }

    /** Every shared model is traced: each one is refused, by the probe, naming the spec and its file. */
    @Test
    void everySharedTracedModelIsRefused() throws Exception {
        Path root = Shared.root().resolve("models");
        List<Path> models;
        try (Stream<Path> s = Files.walk(root)) {
            models = s.filter(p -> p.toString().endsWith(".pt")).sorted().toList();
        }
        assertTrue(models.size() >= 8, models.toString());
        Storage storage = Storage.of(new Configuration());
        for (Path pt : models) {
            ModelSpec spec = new ModelSpec(pt.toUri().toString(), pt.toUri().toString().replaceFirst("\\.pt$", ".json"),
                    ModelSpec.Role.SURROGATE, 1.0);
            // Without augmentation the model loads; with it the probe refuses it.
            ModelLoader.load(List.of(spec.source()), storage, 2);
            ConfigException e = assertThrows(ConfigException.class,
                    () -> ModelLoader.load(List.of(spec.source()), storage, 2, Augments.supportedBySurrogates(
                            List.of(Catalogue.parse(Kind.AUGMENT, "dropout( p = 0.2 )")))));
            // The message quotes the spec as the plan holds it: parsed once, rendered canonically.
            assertTrue(e.getMessage().contains("'dropout(p=0.2)'") && e.getMessage().contains(pt.getFileName().toString())
                    && e.getMessage().contains("no dropout sites"), e.getMessage());
        }
    }

    @Test
    void dropoutRoundRunsAndRerunsByteIdentically(@TempDir Path tmp) throws Exception {
        String[] set = {
            "dataset.limit=6", "attack.steps=3", "batch-size=4", "dataset.partitions=2",
        };
        Rounds.Result a = Rounds.run(Rounds.config("conf/demo-dropout.conf", with(set, "round.output=\"" + tmp.resolve("a") + "\"")),
                "local[2]");
        Rounds.Result b = Rounds.run(Rounds.config("conf/demo-dropout.conf", with(set, "round.output=\"" + tmp.resolve("b") + "\"")),
                "local[2]");
        assertEquals(6, a.records().size());
        assertEquals(0, a.summary().failed());
        for (Row r : a.records()) {
            assertNull(r.getAs("error"));
            String spec = r.getAs("attack_spec");
            assertTrue(spec.contains("augment=[dropout(p=0.05)]"), spec);
            assertTrue((int) r.getAs("linf") <= 8);
        }
        List<Path> pa = pngs(a.config().roundUri());
        List<Path> pb = pngs(b.config().roundUri());
        assertEquals(6, pa.size());
        assertEquals(pa.stream().map(Path::getFileName).toList(), pb.stream().map(Path::getFileName).toList());
        for (int i = 0; i < pa.size(); i++) {
            assertArrayEquals(Files.readAllBytes(pa.get(i)), Files.readAllBytes(pb.get(i)), "rerun of " + pa.get(i).getFileName());
        }
    }

    private static String[] with(String[] base, String extra) {
        String[] out = java.util.Arrays.copyOf(base, base.length + 1);
        out[base.length] = extra;
        return out;
    }

    private static List<Path> pngs(String roundUri) throws Exception {
        try (Stream<Path> s = Files.list(Path.of(java.net.URI.create(roundUri)).resolve("images").resolve("main"))) {
            return s.sorted().toList();
        }
    }
}
