package io.advspark.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.advspark.data.Storage;
import io.advspark.round.Provenance;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Gradient parity of the backward-pass changes that tools/export_model.py bakes into a surrogate
 * (SGM, LinBP, BPA): the exported TorchScript, loaded and differentiated by advspark's Java engine
 * (DJL/libtorch), against an independent eager PyTorch implementation written from each paper
 * (src/test/python/reference_ext_backward.py, custom autograd Functions on a hand-written forward),
 * on the shared CIFAR ResNets built from their Python sources and on a torchvision ResNet-18 with
 * random weights. Loss: sum over the batch of CE(z, y) on the ensemble's logits; the criterion is
 * the parity tests' one, input gradients within 1e-5 relative L2. The model's logits must equal the
 * reference's too (the forward is unchanged), and the card and the round's provenance must name
 * the variant.
 */
class BackwardVariantsTest {
    @TempDir
    static Path dir;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("cifar:resnet20", "sgm(gamma=0.2)", "sgm(gamma=0.2)"),
                Arguments.of("cifar:resnet20", "linbp", "linbp(stage=layer3.1)"),
                Arguments.of("cifar:resnet20", "bpa(stage=layer2.1)", "bpa(stage=layer2.1,temperature=10)"),
                Arguments.of("cifar:resnet32", "sgm(gamma=0.5)", "sgm(gamma=0.5)"),
                Arguments.of("cifar:resnet32", "linbp(stage=layer2.2)", "linbp(stage=layer2.2)"),
                Arguments.of("tv:resnet18", "sgm(gamma=0.2)", "sgm(gamma=0.2)"),
                Arguments.of("tv:resnet18", "linbp(stage=layer2.1)", "linbp(stage=layer2.1)"),
                Arguments.of("tv:resnet18", "bpa", "bpa(stage=layer3.1,temperature=10)"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void exportedGradientMatchesThePaperReference(String model, String spec, String canonical) throws Exception {
        String family = model.substring(0, model.indexOf(':'));
        String arch = model.substring(model.indexOf(':') + 1);
        String name = arch + "_" + spec.replaceAll("[^a-z0-9]+", "_");
        Path pt = family.equals("cifar")
                ? ExportTool.exportCifar(dir, name, arch, "CifarResNet(" + arch.substring(6) + ")", "--backward", spec)
                : ExportTool.exportTorchvision(dir, name, arch, 64, "--backward", spec);
        Path ref = dir.resolve(name + "_ref");
        List<String> refArgs = new ArrayList<>(List.of("src/test/python/reference_ext_backward.py", "--model", model,
                "--backward", canonical, "--out", ref.toString(), "--n", "4", "--size", "64", "--shared",
                ExportTool.cifarSrc().getParent().getParent().getParent().toString()));
        ExportTool.python(refArgs);
        JsonNode meta = new ObjectMapper().readTree(ref.resolve("meta.json").toFile());
        long[] shape = new long[4];
        for (int i = 0; i < 4; i++) {
            shape[i] = meta.get("shape").get(i).asLong();
        }
        int classes = meta.get("classes").asInt();
        float[] x = floats(ref.resolve("x.f32"));
        long[] y = longs(ref.resolve("labels.i64"));
        float[] gRef = floats(ref.resolve("grad.f32"));
        float[] zRef = floats(ref.resolve("logits.f32"));

        List<ModelBundle> bundles = ModelLoader.load(List.of(ExportTool.source(pt)),
                Storage.of(new Configuration()), 1);
        assertEquals(canonical, bundles.get(0).card().backward());
        assertTrue(Provenance.of(bundles, "m.csv", new byte[0]).surrogateSettings().endsWith(" backward=" + canonical));
        double[] measured = TorchThreads.callUnchecked(() -> {
            try (Ensemble e = Ensemble.load(bundles); NDManager m = TorchRuntime.newManager(Device.cpu())) {
                NDArray xa = m.create(x, new Shape(shape));
                float[] onehot = new float[y.length * classes];
                for (int i = 0; i < y.length; i++) {
                    onehot[i * classes + (int) y[i]] = 1f;
                }
                NDArray oh = Autograd.constant(m, onehot, new Shape(y.length, classes));
                float[] z = Autograd.noGrad(() -> e.logits(xa).toFloatArray());
                NDArray g = Autograd.gradient(xa, xx -> e.logits(xx).logSoftmax(1).mul(oh).sum().neg());
                return new double[] {ExportedTapsTest.relL2(g.toFloatArray(), gRef), ExportedTapsTest.relL2(z, zRef)};
            }
        });
        System.out.printf("backward parity %s %s: grad rel L2 %.3g, logits rel L2 %.3g%n", model, canonical,
                measured[0], measured[1]);
        assertTrue(measured[1] < 1e-5, "logits rel L2 " + measured[1]);
        assertTrue(measured[0] < 1e-5, "input gradient rel L2 " + measured[0]);
    }

    private static float[] floats(Path p) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    private static long[] longs(Path p) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        long[] out = new long[b.remaining() / 8];
        b.asLongBuffer().get(out);
        return out;
    }
}
