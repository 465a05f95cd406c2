package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.advspark.attack.filter.PerturbationFilter;
import io.advspark.attack.gradient.TranslationInvariant;
import io.advspark.attack.input.Admix;
import io.advspark.attack.input.DiverseInput;
import io.advspark.attack.input.ScaleInvariant;
import io.advspark.model.Autograd;
import io.advspark.model.TorchRuntime;
import io.advspark.testing.F32;
import io.advspark.testing.Report;
import io.advspark.testing.Shared;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Parity of TI, DI (with the draws exported), SI, Admix and the perturbation filters (Gaussian,
 * DCT) against the independent PyTorch reference {@code src/test/python/reference_parts.py}:
 * outputs and input gradients of {@code sum(out * w)} (random w) must agree to 1e-5 (max abs).
 * One Python run for all cases.
 */
class TransformParityTest {
    private static final Path SCRIPT = Path.of("src/test/python/reference_parts.py").toAbsolutePath();
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void engine() {
        Shared.python();
        TorchRuntime.start(2);
    }

    /** One case: the Java output and gradient, to compare with the reference's. */
    private record Case(String name, float[] out, float[] grad) {}

    @Test
    void partsMatchPyTorch() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "parts-parity");
        List<Case> cases = new ArrayList<>();
        try (NDManager m = TorchRuntime.newManager(Device.cpu())) {
            Random rnd = new Random(7);
            // TI: the three kernels, incl. the published 15 / 3 and SI-NI's 7.
            String[][] ti = {{"gaussian", "15", "3"}, {"gaussian", "7", "3"}, {"uniform", "5", "3"}, {"linear", "9", "3"}};
            for (String[] k : ti) {
                TranslationInvariant t = new TranslationInvariant(k[0], Integer.parseInt(k[1]), Double.parseDouble(k[2]));
                ObjectNode c = JSON.createObjectNode().put("op", "ti").put("kernel", k[0])
                        .put("size", Integer.parseInt(k[1])).put("sigma", Double.parseDouble(k[2]));
                cases.add(run(m, dir, "ti-" + k[0] + k[1], c, new long[] {2, 3, 24, 20}, rnd,
                        x -> t.apply(x, null)));
            }
            // DI on 32 and 64 px with p = 0.5 and the published resize, draws exported.
            for (int h : new int[] {32, 40, 64}) {
                // At 40 px every image is transformed (p = 1, resize 1.2: rnd in [40, 48)).
                DiverseInput di = h == 40 ? new DiverseInput(1.0, 1.2) : new DiverseInput(0.5, 1.1);
                long[] shape = {6, 3, h, h};
                StepContext ctx = ctx(m, shape, Draws.sequential(6));
                DiverseInput.Plan[] plans = di.plan(ctx, 6, h);
                ObjectNode c = JSON.createObjectNode().put("op", "di").put("resize", di.resize());
                var arr = c.putArray("plans");
                for (DiverseInput.Plan p : plans) {
                    arr.addArray().add(p.rnd()).add(p.top()).add(p.left()).add(p.on());
                }
                // Each application draws the same plan from a fresh copy of the streams.
                cases.add(run(m, dir, "di-" + h, c, shape, rnd, x -> di.apply(x, ctx(m, shape, Draws.sequential(6)))));
            }
            // The perturbation filters, square and non-square: Gaussian at the sigmas of the filter
            // study (radius 2..6 px), DCT at the default and at keeps where kh, kw round differently.
            for (String spec : new String[] {"gaussian(sigma=0.5)", "gaussian(sigma=0.7)", "gaussian(sigma=1)",
                "gaussian(sigma=2)", "dct(keep=0.25)", "dct(keep=0.1)", "dct(keep=0.3)", "dct(keep=1)"}) {
                PerturbationFilter f = Parts.filter(spec);
                for (long[] shape : new long[][] {{2, 3, 32, 32}, {2, 3, 24, 20}}) {
                    ObjectNode c = JSON.createObjectNode().put("op", "filter").put("spec", spec);
                    cases.add(run(m, dir, "filter-" + spec.replaceAll("[^a-z0-9.]", "") + "-" + shape[2] + "x" + shape[3],
                            c, shape, rnd, x -> f.apply(x, null)));
                }
            }
            // SI, 5 copies.
            ScaleInvariant si = new ScaleInvariant(5);
            cases.add(run(m, dir, "si", JSON.createObjectNode().put("op", "si").put("copies", 5),
                    new long[] {2, 3, 8, 8}, rnd, x -> si.apply(x, null)));
            // Admix, published 0.2 / 3 / 5, with a tiled batch (2 copies of 3 images).
            Admix ad = new Admix(0.2, 3, 5);
            long[] cleanShape = {3, 3, 8, 8};
            NDArray clean = m.create(F32.randoms(rnd, 3 * 3 * 64), new Shape(cleanShape));
            int[][] partners = ad.partners(new StepContext(0, 10, Draws.sequential(3), clean, 0.03f, 0.003f), 6, 3);
            ObjectNode c = JSON.createObjectNode().put("op", "admix").put("strength", 0.2).put("mixes", 3).put("scales", 5);
            var pa = c.putArray("partners");
            for (int[] p : partners) {
                var row = pa.addArray();
                for (int v : p) {
                    row.add(v);
                }
            }
            c.putArray("clean_shape").add(3).add(3).add(8).add(8);
            F32.write(dir.resolve("admix.clean.f32"), clean.toFloatArray());
            cases.add(run(m, dir, "admix", c, new long[] {6, 3, 8, 8}, rnd, x -> ad.apply(x, new StepContext(0, 10, Draws.sequential(3), clean, 0.03f, 0.003f))));
        }
        python(dir);
        for (Case k : cases) {
            float[] out = F32.read(dir.resolve(k.name() + ".out.f32"));
            float[] grad = F32.read(dir.resolve(k.name() + ".grad.f32"));
            assertEquals(out.length, k.out().length, k.name() + " output size");
            Report.append("parity-transforms.md", String.format(java.util.Locale.ROOT,
                    "| %s | max output diff %.3g | max gradient diff %.3g |", k.name(), F32.maxDiff(out, k.out()),
                    F32.maxDiff(grad, k.grad())));
            assertTrue(F32.maxDiff(out, k.out()) <= 1e-5, k.name() + " output differs by " + F32.maxDiff(out, k.out()));
            assertTrue(F32.maxDiff(grad, k.grad()) <= 1e-5, k.name() + " gradient differs by " + F32.maxDiff(grad, k.grad()));
        }
    }

    private static StepContext ctx(NDManager m, long[] shape, Draws d) {
        return new StepContext(0, 10, d, m.zeros(new Shape(shape)), 0.03f, 0.003f);
    }

    private static Case run(NDManager m, Path dir, String name, ObjectNode c, long[] shape, Random rnd,
            Function<NDArray, NDArray> part) throws IOException {
        var sh = c.putArray("shape");
        long size = 1;
        for (long s : shape) {
            sh.add(s);
            size *= s;
        }
        float[] xs = F32.randoms(rnd, (int) size);
        NDArray x = m.create(xs, new Shape(shape));
        float[] out;
        try (NDManager probe = m.newSubManager()) {
            NDArray x2 = x.duplicate();
            x2.attach(probe);
            out = part.apply(x2).toFloatArray();
        }
        float[] w = F32.randoms(rnd, out.length);
        NDArray wa = m.create(w, new Shape(out.length));
        NDArray grad;
        try (NDManager scratch = m.newSubManager()) {
            grad = Autograd.gradient(x, leaf -> part.apply(leaf).reshape(-1).mul(wa).sum(), scratch);
            float[] g = grad.toFloatArray();
            F32.write(dir.resolve(name + ".x.f32"), xs);
            F32.write(dir.resolve(name + ".w.f32"), w);
            Files.writeString(dir.resolve(name + ".json"), JSON.writeValueAsString(c));
            return new Case(name, out, g);
        }
    }

    private static void python(Path dir) throws IOException, InterruptedException {
        Process p = Shared.pythonProcess(List.of(SCRIPT.toString(), dir.toString()))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("reference timed out");
        }
        assertEquals(0, p.exitValue(), "reference failed:\n" + out);
    }
}
