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
