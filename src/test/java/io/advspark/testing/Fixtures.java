package io.advspark.testing;

import io.advspark.data.Manifest;
import io.advspark.data.ManifestRow;
import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.model.ModelBundle;
import io.advspark.model.ModelCard;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Loading helpers shared by tests (real files only). */
public final class Fixtures {
    private Fixtures() {}

    /** The repository's demo data set (dev.csv and images/), as reference.conf's defaults use it. */
    public static final Path DEMO_DATA = Path.of("demo", "data").toAbsolutePath();

    /** A copy of the demo data set (manifest and images) under {@code tmp}/data that a test may edit. */
    public static Path demoDataCopy(Path tmp) throws IOException {
        Path data = tmp.resolve("data");
        Files.createDirectories(data.resolve("images"));
        Files.copy(DEMO_DATA.resolve("dev.csv"), data.resolve("dev.csv"));
        try (java.util.stream.Stream<Path> s = Files.list(DEMO_DATA.resolve("images"))) {
            for (Path p : s.toList()) {
                Files.copy(p, data.resolve("images").resolve(p.getFileName()));
            }
        }
        return data;
    }

    /** Every PNG below {@code dir}, by its path relative to {@code dir}. */
    public static java.util.Map<String, byte[]> pngs(Path dir) throws IOException {
        java.util.Map<String, byte[]> m = new java.util.TreeMap<>();
        try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(x -> x.toString().endsWith(".png")).toList()) {
                m.put(dir.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return m;
    }

    public static ModelBundle bundle(Path pt, double weight) throws IOException {
        Path card = pt.resolveSibling(pt.getFileName().toString().replaceFirst("\\.pt$", ".json"));
        return new ModelBundle(pt.toString(), ModelCard.parse(Files.readAllBytes(card), card.toString()),
                Files.readAllBytes(pt), weight);
    }

    public static List<ManifestRow> manifest(Path dataDir, int labelBase, int limit) throws IOException {
        try (InputStream in = Files.newInputStream(dataDir.resolve("dev.csv"))) {
            return Manifest.parse(in, "dev.csv", labelBase, 0, limit);
        }
    }

    public static RgbImage image(Path dataDir, String id) throws IOException {
        Path p = dataDir.resolve("images").resolve(id);
        if (!Files.exists(p)) {
            p = dataDir.resolve(id);
        }
        return Png.decode(Files.readAllBytes(p), p.toString());
    }

    /** Packs images into one NCHW float batch in [0,1]. */
    public static float[] batch(List<RgbImage> images) {
        int per = images.get(0).pixels().length;
        float[] out = new float[per * images.size()];
        for (int i = 0; i < images.size(); i++) {
            images.get(i).toUnitFloats(out, i * per);
        }
        return out;
    }

    public static List<RgbImage> images(Path dataDir, List<ManifestRow> rows) throws IOException {
        List<RgbImage> out = new ArrayList<>();
        for (ManifestRow r : rows) {
            out.add(image(dataDir, r.imageId()));
        }
        return out;
    }
}
