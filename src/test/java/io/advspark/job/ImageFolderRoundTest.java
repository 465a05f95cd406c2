package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.data.Manifest;
import io.advspark.plan.RoundConfig;
import io.advspark.testing.Rounds;
import io.advspark.vocabulary.ConfigException;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user's own data in the two other layouts: an ImageFolder (class folders, PNG and JPEG files,
 * sorted folder names or a class-order file) and a CSV with its own column names and no target
 * column. Labels, drawn targets, output names and the evaluation's clean images all follow.
 */
class ImageFolderRoundTest {
    private static final Path DEMO = Path.of("demo/data").toAbsolutePath();
    private static final String MODELS = "models=[{path=\"demo/models/tiny_a.pt\"}, {path=\"demo/models/tiny_c.pt\","
            + " role=target}]";

    /** The first {@code n} demo images as {@code <class name>/<id>}; every third one as a JPEG. Returns id -> label. */
    private static Map<String, Integer> imageFolder(Path dir, int n) throws Exception {
        List<String> names = Files.readAllLines(DEMO.resolve("labels.txt"));
        List<String> lines = Files.readAllLines(DEMO.resolve("dev.csv"));
        Map<String, Integer> labels = new HashMap<>();
        for (int i = 1; i <= n; i++) {
            String[] f = lines.get(i).split(",");
            int label = Integer.parseInt(f[1]);
            // The demo's class names (circle, square, ...) sort in another order than their labels.
            Path folder = Files.createDirectories(dir.resolve(names.get(label)));
            if (i % 3 == 0) {
                BufferedImage img = ImageIO.read(DEMO.resolve("images").resolve(f[0]).toFile());
                String id = f[0].replace(".png", ".jpg");
                ImageIO.write(img, "jpeg", folder.resolve(id).toFile());
                labels.put(id, label);
            } else {
                Files.copy(DEMO.resolve("images").resolve(f[0]), folder.resolve(f[0]));
                labels.put(f[0], label);
            }
        }
        return labels;
    }

    @Test
    void anImageFolderOfPngsAndJpegsIsAttackedAndScored(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data");
        Map<String, Integer> labels = imageFolder(data, 12);
        // The class order of the models (labels.txt), not the folders' alphabetical order.
        Files.copy(DEMO.resolve("labels.txt"), data.resolve("classes.txt"));
        RoundConfig cfg = Rounds.config(Rounds.TINY.getPath(), MODELS, "dataset.uri=\"" + data + "\"",
                "dataset.layout=image-folder", "dataset.classes=classes.txt", "round.output=\"" + tmp.resolve("out") + "\"",
                "attack.steps=2");
        Rounds.Result r = Rounds.run(cfg, "local[1]");
        assertEquals(12, r.records().size());
        int jpegs = 0;
        for (Row row : r.records()) {
            String id = row.getAs("image_id");
            assertNull(row.getAs("error"), id);
            assertEquals(labels.get(id), row.<Integer>getAs("true_label"), id);
            int target = row.getAs("target_label");
            assertNotEquals(labels.get(id).intValue(), target, "a drawn target is never the true class");
            assertEquals(Manifest.drawnTarget(id, labels.get(id), 6), target);
            String out = row.getAs("output_file");
            assertEquals("images/main/" + (id.endsWith(".jpg") ? id + ".png" : id), out);
            assertTrue(Files.isRegularFile(tmp.resolve("out/demo").resolve(out)), out);
            jpegs += id.endsWith(".jpg") ? 1 : 0;
        }
        assertEquals(4, jpegs);
        // The evaluation finds each clean image in its class folder, the JPEGs decoded as the attack did.
        EvaluationSummary s = Rounds.evaluate(cfg, "local[1]");
        assertEquals(12, s.passes().cleanImages());
        java.util.regex.Matcher acc = java.util.regex.Pattern.compile("clean acc +([0-9.]+)%").matcher(s.render());
        assertTrue(acc.find() && Double.parseDouble(acc.group(1)) > 80, "tiny_c knows the demo's classes: " + s.render());

        // A rerun resumes: nothing is redone, the JPEG outputs included.
        assertEquals(12, Rounds.run(cfg, "local[1]").summary().resumed());

        // Without the class file the sorted folder names are the labels: another round, other labels.
        RoundConfig sorted = Rounds.config(Rounds.TINY.getPath(), MODELS, "dataset.uri=\"" + data + "\"",
                "dataset.layout=image-folder", "round.output=\"" + tmp.resolve("out2") + "\"", "attack.steps=1");
        List<String> order = new ArrayList<>(Files.readAllLines(DEMO.resolve("labels.txt")));
        java.util.Collections.sort(order);
        List<String> names = Files.readAllLines(DEMO.resolve("labels.txt"));
        for (Row row : Rounds.run(sorted, "local[1]").records()) {
            String id = row.getAs("image_id");
            assertEquals(order.indexOf(names.get(labels.get(id))), row.<Integer>getAs("true_label"), id);
        }
    }

    @Test
    void badFoldersAreConfigurationErrors(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data");
        imageFolder(data, 6);
        Files.writeString(data.resolve("classes.txt"), "circle\nsquare\n");
        ConfigException missing = assertThrows(ConfigException.class, () -> Rounds.run(Rounds.config(Rounds.TINY.getPath(),
                MODELS, "dataset.uri=\"" + data + "\"", "dataset.layout=image-folder", "dataset.classes=classes.txt",
                "round.output=\"" + tmp.resolve("out") + "\""), "local[1]"));
        assertTrue(missing.getMessage().contains("classes.txt: the class folder") && missing.getMessage().contains("is not listed"),
                missing.getMessage());
    }

    @Test
    void aFileNameInTwoClassFoldersPrefixesEveryImageIdWithItsClass(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data");
        imageFolder(data, 6);
        io.advspark.data.DatasetLayout layout = io.advspark.data.DatasetLayout.forName("image-folder");
        io.advspark.data.Storage storage = io.advspark.data.Storage.of(new org.apache.hadoop.conf.Configuration());
        String uri = data.toUri().toString();
        String plain = new String(layout.manifest(storage, uri, "", "", 0), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(!plain.contains("circle_"), "unique file names are the ImageIds:\n" + plain);
        // cat/0001.png and dog/0001.png: every ImageId becomes <class>_<file>, still plain and unique.
        Path first;
        try (var files = Files.list(data.resolve("circle"))) {
            first = files.sorted().findFirst().orElseThrow();
        }
        Path other = tmp.resolve("data2");
        imageFolder(other, 6);
        Files.copy(first, other.resolve("square").resolve(first.getFileName()),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        String otherUri = other.toUri().toString();
        String csv = new String(layout.manifest(storage, otherUri, "", "", 0), java.nio.charset.StandardCharsets.UTF_8);
        List<String> ids = csv.lines().skip(1).map(l -> l.substring(0, l.indexOf(','))).toList();
        assertTrue(ids.contains("circle_" + first.getFileName()) && ids.contains("square_" + first.getFileName()), csv);
        for (String line : csv.lines().skip(1).toList()) {
            String id = line.substring(0, line.indexOf(','));
            assertTrue(Files.exists(other.resolve(id.substring(0, id.indexOf('_'))).resolve(id.substring(id.indexOf('_') + 1))),
                    "every ImageId is <class>_<file>: " + id);
        }
        assertEquals(ids.size(), new java.util.HashSet<>(ids).size(), "unique");
        String id = "square_" + first.getFileName();
        assertEquals(other.resolve("square").resolve(first.getFileName()).toUri().toString().replace("file:///", "file:/"),
                layout.read(storage, otherUri, id).uri().replace("file:///", "file:/"));
    }

    @Test
    void aCsvWithItsOwnColumnsAndNoTargets(@TempDir Path tmp) throws Exception {
        Path data = Files.createDirectories(tmp.resolve("flat"));
        List<String> lines = Files.readAllLines(DEMO.resolve("dev.csv"));
        StringBuilder csv = new StringBuilder("file,label,split\n");
        for (String l : lines.subList(1, 7)) {
            String[] f = l.split(",");
            Files.copy(DEMO.resolve("images").resolve(f[0]), data.resolve(f[0]));
            csv.append(f[0]).append(',').append(f[1]).append(",dev\n");
        }
        Files.writeString(data.resolve("labels.csv"), csv);
        Rounds.Result r = Rounds.run(Rounds.config(Rounds.TINY.getPath(), "dataset.uri=\"" + data + "\"",
                "dataset.manifest=labels.csv", "dataset.columns={image-id=file, true-label=label, target-class=\"\"}",
                "round.output=\"" + tmp.resolve("out") + "\"", "attack.steps=1"), "local[1]");
        assertEquals(6, r.records().size());
        for (Row row : r.records()) {
            assertNull(row.getAs("error"));
            assertEquals(Manifest.drawnTarget(row.getAs("image_id"), row.getAs("true_label"), 6),
                    row.<Integer>getAs("target_label"));
        }
        ConfigException wrong = assertThrows(ConfigException.class, () -> Rounds.run(Rounds.config(Rounds.TINY.getPath(),
                "dataset.uri=\"" + data + "\"", "dataset.manifest=labels.csv", "round.output=\"" + tmp.resolve("out2") + "\""),
                "local[1]"));
        assertTrue(wrong.getMessage().contains("header must contain ImageId, TrueLabel, TargetClass")
                && wrong.getMessage().contains("advspark.dataset.columns"), wrong.getMessage());
    }
}
