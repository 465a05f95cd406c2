package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.advspark.attack.augment.Dropout;
import io.advspark.attack.augment.ModelAugmentation;
import io.advspark.attack.init.ZeroInit;
import io.advspark.attack.loss.CrossEntropy;
import io.advspark.attack.update.Momentum;
import io.advspark.data.ManifestRow;
import io.advspark.data.RgbImage;
import io.advspark.model.Autograd;
import io.advspark.model.Classifier;
import io.advspark.model.Ensemble;
import io.advspark.model.ModelCard;
import io.advspark.model.TorchRuntime;
import io.advspark.testing.F32;
import io.advspark.testing.Fixtures;
import io.advspark.testing.Report;
import io.advspark.testing.Shared;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine's gradient with dropout on agrees with the independent PyTorch reference
 * {@code src/test/python/reference_dropout.py} given the same masks: advspark's first-step
 * gradient (masks drawn by the engine from the per-image streams) and logits, against an eager
 * model rebuilt from the traced source weights with the masks applied at the same sites.
 */
class DropoutParityTest {
    private static final Path SCRIPT = Path.of("src/test/python/reference_dropout.py").toAbsolutePath();
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void engine() {
        Shared.python();
        TorchRuntime.start(2);
    }

    private record Result(String name, float[] logits, float[] grad) {}

    /** The repository's fixture: tiny_b with dropout sites, 64 -> 48 resize, label offset 1, SI-like copies. */
    @Test
    void demoGhostMatchesPyTorch() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "dropout-parity");
        Path data = Path.of("demo/data");
        check(dir, "ghost_b", Path.of("demo/models/ghost_b.pt"), Path.of("demo/models/tiny_b.pt"), "tiny-b",
                Fixtures.manifest(data, 0, 4), data, 64, 2, 0.1);
    }

    /** Real pretrained weights: CIFAR ResNet-20 re-exported with 10 dropout sites by tools/ghost_model.py. */
    @Test
    void cifarResNet20GhostMatchesPyTorch() throws Exception {
        Path source = Shared.cifarModel("resnet20");
        Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "dropout-parity");
        Path ghost = ghostOf(source, dir, "cifar-resnet");
        check(dir, "resnet20_ghost", ghost, source, "cifar-resnet", Fixtures.manifest(Shared.cifar10(), 0, 8),
                Shared.cifar10(), 32, 1, 0.1);
    }

    /** Runs tools/ghost_model.py on {@code source} into {@code dir}; returns the scripted file. */
    static Path ghostOf(Path source, Path dir, String arch) throws Exception {
        String name = source.getFileName().toString().replace(".pt", "") + "_ghost";
        python(List.of(Path.of("tools/ghost_model.py").toAbsolutePath().toString(), "--arch", arch, "--source",
                source.toString(), "--out", dir.toString(), "--name", name, "--threads", "1"));
        return dir.resolve(name + ".pt");
    }

    private void check(Path dir, String name, Path ghost, Path source, String arch, List<ManifestRow> rows, Path data,
            int side, int copies, double p) throws Exception {
        List<RgbImage> imgs = Fixtures.images(data, rows);
        int n = rows.size();
        float[] px = Fixtures.batch(imgs);
        long[] shape = {n, 3, side, side};
        int[] y = rows.stream().mapToInt(ManifestRow::trueLabel).toArray();
        long[] seeds = rows.stream().mapToLong(r -> Draws.seedFor("parity", "dropout", r.imageId())).toArray();
        Dropout dropout = new Dropout(p);
        Attack attack = new Attack(8, 1, 1, new ZeroInit(), List.of(), new CrossEntropy(1, 0), List.of(),
                new Momentum(1.0, false, 0, 0), null, copies, EnsembleMode.LOGITS, List.of(dropout));
        int rowsIn = n * copies;
        Result ours;
        ModelCard card;
        List<long[]> sites;
        float[][] masks;
        try (Ensemble ens = Ensemble.load(List.of(Fixtures.bundle(ghost, 1.0)));
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            Classifier model = ens.members().get(0);
            card = model.card();
            sites = model.dropoutSites();
            float[][] grad = new float[1][];
            new AttackEngine(attack, ens).run(px, shape, y, y, new Draws(seeds), m,
                    (t, x, mom, g, next, nextMom) -> grad[0] = g.toFloatArray());
            // The engine's first forward drew exactly these masks (nothing else draws before it).
            masks = dropout.masks(sites, rowsIn, new Draws(seeds));
            NDArray x = m.create(px, new Shape(shape));
            NDArray tiled = copies > 1 ? x.tile(new long[] {copies, 1, 1, 1}) : x;
            float[] logits = Autograd.noGrad(() -> model.logits(tiled, ModelAugmentation.toArrays(masks, sites, rowsIn, m))
                    .toFloatArray());
            ours = new Result(name, logits, grad[0]);
        }

        ObjectNode c = JSON.createObjectNode().put("arch", arch).put("source", source.toAbsolutePath().toString())
                .put("copies", copies).put("wu", 1.0).put("wt", 0.0);
        ObjectNode cj = c.putObject("card");
        cj.putArray("input_size").add(card.inputHeight()).add(card.inputWidth());
        ArrayNode mean = cj.putArray("mean");
        ArrayNode std = cj.putArray("std");
        for (int i = 0; i < 3; i++) {
            mean.add(card.mean()[i]);
            std.add(card.std()[i]);
        }
        cj.put("label_offset", card.labelOffset()).put("dataset_classes", card.datasetClasses());
        ArrayNode sh = c.putArray("shape");
        for (long s : shape) {
            sh.add(s);
        }
        ArrayNode st = c.putArray("sites");
        for (long[] s : sites) {
            ArrayNode a = st.addArray();
            for (long v : s) {
                a.add(v);
            }
        }
        ArrayNode labels = c.putArray("labels");
        for (int v : y) {
            labels.add(v);
        }
        ArrayNode targets = c.putArray("targets");
        for (int v : y) {
            targets.add(v);
        }
        F32.write(dir.resolve(name + ".x.f32"), px);
        for (int k = 0; k < masks.length; k++) {
            F32.write(dir.resolve(name + ".mask" + k + ".f32"), masks[k]);
        }
        Files.writeString(dir.resolve(name + ".json"), JSON.writeValueAsString(c));
        python(List.of(SCRIPT.toString(), dir.toString()));

        float[] refLogits = F32.read(dir.resolve(name + ".logits.f32"));
        float[] refGrad = F32.read(dir.resolve(name + ".grad.f32"));
        assertEquals(refLogits.length, ours.logits().length);
        assertEquals(refGrad.length, ours.grad().length);
        double logitErr = maxAbs(ours.logits(), refLogits);
        double gradErr = DropoutTest.relDiff(ours.grad(), refGrad);
        long dropped = 0;
        long total = 0;
        for (float[] mk : masks) {
            for (float v : mk) {
                dropped += v == 0 ? 1 : 0;
                total++;
            }
        }
        Report.append("dropout.md", String.format(Locale.ROOT,
                "| %s, p %.2f, %d images x %d copies, %d sites | %.1f %% dropped | logits max abs diff %.2g | gradient rel. L2 error %.2g |",
                name, p, n, copies, sites.size(), 100.0 * dropped / total, logitErr, gradErr));
        assertTrue(logitErr < 1e-4, name + " logits differ by " + logitErr);
        assertTrue(gradErr < 1e-4, name + " gradients differ by " + gradErr);
    }

    private static double maxAbs(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    static void python(List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(args);
        ProcessBuilder pb = Shared.pythonProcess(cmd).redirectErrorStream(true);
        Process proc = pb.start();
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!proc.waitFor(300, TimeUnit.SECONDS)) {
            proc.destroyForcibly();
            throw new IOException("python timed out: " + cmd);
        }
        assertEquals(0, proc.exitValue(), "python failed: " + cmd + "\n" + out);
    }
}
