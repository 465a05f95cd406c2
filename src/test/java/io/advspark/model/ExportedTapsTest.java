package io.advspark.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.advspark.data.Storage;
import io.advspark.testing.Shared;
import io.advspark.vocabulary.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A CIFAR ResNet-20 exported by tools/export_model.py from the shared Python sources with feature
 * taps (layer2, layer3.1): it loads, its card is checked against what the file returns, its logits
 * equal the shared traced .pt's bit for bit through the ensemble, and the taps come out with the
 * card's shapes, in the autograd graph.
 */
class ExportedTapsTest {
    @TempDir
    static Path dir;

    static Path tapped;
    static final Storage STORAGE = Storage.of(new Configuration());

    @BeforeAll
    static void export() throws Exception {
        tapped = ExportTool.exportCifar(dir, "r20_taps", "resnet20", "CifarResNet(20)", "--taps", "layer2,layer3.1");
    }

    private static NDArray pixels(NDManager m, int n) {
        Random r = new Random(11);
        float[] px = new float[n * 3 * 32 * 32];
        for (int i = 0; i < px.length; i++) {
            px[i] = r.nextFloat();
        }
        return m.create(px, new Shape(n, 3, 32, 32));
    }

    @Test
    void tappedModelLoadsAndMatchesTheSharedTrace() throws Exception {
        List<ModelBundle> t = ModelLoader.load(List.of(ExportTool.source(tapped)), STORAGE, 1);
        List<ModelBundle> p = ModelLoader.load(List.of(ExportTool.source(Shared.cifarModel("resnet20"))), STORAGE, 1);
        ModelCard card = t.get(0).card();
        assertEquals(List.of("layer2", "layer3.1"), card.taps().stream().map(ModelCard.Tap::name).toList());
        assertArrayEquals(new long[] {32, 16, 16}, card.taps().get(0).shape());
        assertArrayEquals(new long[] {64, 8, 8}, card.taps().get(1).shape());
        assertEquals("none", card.backward());
        assertTrue(p.get(0).card().taps().isEmpty());
        TorchThreads.callUnchecked(() -> {
            try (Ensemble tapE = Ensemble.load(t);
                    Ensemble plainE = Ensemble.load(p);
                    NDManager m = TorchRuntime.newManager(Device.cpu())) {
                for (int n : new int[] {5, 8}) { // a padded batch (5 -> 8 rows) and a full one
                    NDArray x = pixels(m, n);
                    float[] zt = Autograd.noGrad(() -> tapE.logits(x).toFloatArray());
                    float[] zp = Autograd.noGrad(() -> plainE.logits(x).toFloatArray());
                    assertArrayEquals(zp, zt, "logits of the tapped export equal the shared .pt's bit for bit");
                    List<Classifier.Features> f = Autograd.noGrad(() -> tapE.memberFeatures(x));
                    assertArrayEquals(zt, f.get(0).logits().toFloatArray());
                    assertEquals(new Shape(n, 32, 16, 16), f.get(0).tap("layer2").getShape());
                    assertEquals(new Shape(n, 64, 8, 8), f.get(0).tap("layer3.1").getShape());
                    assertTrue(Autograd.noGrad(() -> plainE.memberFeatures(x)).get(0).taps().isEmpty());
                    assertThrows(IllegalArgumentException.class, () -> f.get(0).tap("layer9"));

                    // Logit gradients are those of the plain model; a tap is in the graph too.
                    NDArray gt = Autograd.gradient(x, xx -> tapE.logits(xx).get(":, 3").sum());
                    NDArray gp = Autograd.gradient(x, xx -> plainE.logits(xx).get(":, 3").sum());
                    assertTrue(relL2(gt.toFloatArray(), gp.toFloatArray()) < 1e-6);
                    NDArray gTap = Autograd.gradient(x,
                            xx -> tapE.memberFeatures(xx).get(0).tap("layer2").square().sum());
                    float s = gTap.abs().sum().getFloat();
                    assertTrue(Float.isFinite(s) && s > 0, "tap gradient " + s);
                }
            }
            return null;
        });
    }

    @Test
    void cardsThatContradictTheFileAreRefusedNamingIt() throws Exception {
        String json = Files.readString(tapped.resolveSibling("r20_taps.json"));
        // A tap shape the file does not return.
        Path wrongShape = copy("wrong_shape", tapped, json.replace("[\n        32,\n        16,\n        16\n      ]",
                "[32, 8, 8]").replace("[32, 16, 16]", "[32, 8, 8]"));
        ConfigException e = assertThrows(ConfigException.class,
                () -> ModelLoader.load(List.of(ExportTool.source(wrongShape)), STORAGE, 1));
        assertTrue(e.getMessage().contains("wrong_shape.pt") && e.getMessage().contains("tap 'layer2'")
                && e.getMessage().contains("[32, 8, 8]"), e.getMessage());
        // A card without taps for a file that returns them.
        Path noTaps = copy("no_taps", tapped, json.replaceAll("(?s)\"taps\": \\[.*?\\n  \\],", "\"taps\": [],"));
        e = assertThrows(ConfigException.class, () -> ModelLoader.load(List.of(ExportTool.source(noTaps)), STORAGE, 1));
        assertTrue(e.getMessage().contains("no_taps.pt") && e.getMessage().contains("returns 3 output(s)")
                && e.getMessage().contains("lists 0 tap(s)"), e.getMessage());
        // A card with taps for a plain file.
        Path plain = Shared.cifarModel("resnet20");
        String plainJson = Files.readString(plain.resolveSibling("resnet20.json"))
                .replace("\"name\": \"resnet20\",", "\"name\": \"resnet20\", \"taps\": [{\"name\": \"layer2\", \"shape\": [32, 16, 16]}],");
        Path extra = copy("extra_taps", plain, plainJson);
        e = assertThrows(ConfigException.class, () -> ModelLoader.load(List.of(ExportTool.source(extra)), STORAGE, 1));
        assertTrue(e.getMessage().contains("extra_taps.pt") && e.getMessage().contains("returns 1 output(s)"),
                e.getMessage());
    }

    @Test
    void malformedTapsAreRefusedByTheCardParser() throws Exception {
        String base = Files.readString(Shared.cifarModel("resnet20").resolveSibling("resnet20.json"));
        for (String taps : List.of("\"layer2\"", "[{\"name\": \"layer2\"}]", "[{\"name\": \"a\", \"shape\": [0]}]",
                "[{\"name\": \"a\", \"shape\": [2]}, {\"name\": \"a\", \"shape\": [2]}]")) {
            String json = base.replace("\"name\": \"resnet20\",", "\"name\": \"resnet20\", \"taps\": " + taps + ",");
            IOException e = assertThrows(IOException.class,
                    () -> ModelCard.parse(json.getBytes(StandardCharsets.UTF_8), "x.json"), taps);
            assertTrue(e.getMessage().contains("x.json") && e.getMessage().contains("taps"), e.getMessage());
        }
        ModelCard plain = ModelCard.parse(base.getBytes(StandardCharsets.UTF_8), "x.json");
        assertTrue(plain.taps().isEmpty());
        assertEquals("none", plain.backward());
    }

    private static Path copy(String name, Path pt, String cardJson) throws IOException {
        Path d = dir.resolve(name);
        Files.createDirectories(d);
        Files.copy(pt, d.resolve(name + ".pt"));
        Files.writeString(d.resolve(name + ".json"), cardJson);
        return d.resolve(name + ".pt");
    }

    static double relL2(float[] a, float[] ref) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return Math.sqrt(num / den);
    }
}
