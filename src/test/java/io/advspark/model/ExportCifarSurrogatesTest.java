package io.advspark.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.advspark.data.ManifestRow;
import io.advspark.data.Storage;
import io.advspark.testing.Fixtures;
import io.advspark.testing.Shared;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tools/export-cifar-surrogates, which jobs/bench --parts-cifar and jobs/experiment-features use:
 * it writes the eight exports it lists, each loads in advspark with its card's taps or backward
 * change, and every one's logits on real CIFAR images equal the shared traced file's bit for bit
 * (a backward change or taps never change the forward).
 */
class ExportCifarSurrogatesTest {
    @TempDir
    Path dir;

    @Test
    void everyExportLoadsAndKeepsTheSharedForward() throws Exception {
        Path shared = Shared.root();
        Shared.python();
        ProcessBuilder pb = new ProcessBuilder("bash", "tools/export-cifar-surrogates", dir.toString()).redirectErrorStream(true);
        pb.environment().put("ADVSPARK_SHARED", shared.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(600, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        List<String> files = out.lines().toList();
        assertEquals(8, files.size(), out);
        Storage storage = Storage.of(new Configuration());
        List<ManifestRow> rows = Fixtures.manifest(Shared.cifar10(), 0, 6);
        float[] clean = Fixtures.batch(Fixtures.images(Shared.cifar10(), rows));
        for (String f : files) {
            Path pt = Path.of(f);
            assertTrue(Files.isRegularFile(pt), f);
            String name = pt.getFileName().toString();
            String depth = name.substring("resnet".length(), name.indexOf('_'));
            ModelCard card = ModelLoader.load(List.of(ExportTool.source(pt)), storage, 1).get(0).card();
            if (name.endsWith("_taps.pt")) {
                assertEquals(List.of("layer2", "layer3.1"), card.taps().stream().map(ModelCard.Tap::name).toList(), name);
                assertEquals("none", card.backward(), name);
            } else {
                String kind = name.substring(name.indexOf('_') + 1, name.length() - 3);
                assertTrue(card.backward().startsWith(kind + "("), name + ": " + card.backward());
            }
            TorchThreads.callUnchecked(() -> {
                try (Ensemble e = Ensemble.load(ModelLoader.load(List.of(ExportTool.source(pt)), storage, 1));
                        Ensemble plain = Ensemble.load(ModelLoader.load(
                                List.of(ExportTool.source(Shared.cifarModel("resnet" + depth))), storage, 1));
                        NDManager m = TorchRuntime.newManager(Device.cpu())) {
                    NDArray x = m.create(clean, new ai.djl.ndarray.types.Shape(rows.size(), 3, 32, 32));
                    assertArrayEquals(Autograd.noGrad(() -> plain.logits(x).toFloatArray()),
                            Autograd.noGrad(() -> e.logits(x).toFloatArray()), name + ": logits differ from the shared file's");
                }
                return null;
            });
        }
    }
}
