package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.advspark.data.ManifestRow;
import io.advspark.data.RgbImage;
import io.advspark.job.AttackJob;
import io.advspark.model.Ensemble;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.AttackConfig;
import io.advspark.testing.CleanImageTolerance;
import io.advspark.testing.Fixtures;
import io.advspark.testing.Report;
import io.advspark.testing.Shared;
import io.advspark.testing.StepDump;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Teacher-forced step parity of any attack spec against src/test/python/reference_updates.py on 4
 * CIFAR images and the two CIFAR ResNets: the Java engine runs with every step dumped, the
 * reference recomputes each step from Java's iterate and state. New parts add their reference to
 * the Python side and a case to a parity test that calls {@link #runAndCompare}.
 */
final class ParityHarness {
    static final int THREADS = 2;

    private ParityHarness() {}

    /** Shared checks and the libtorch thread count the tolerances were measured at. */
    static void engine() {
        Shared.root();
        Shared.python();
        // Thread counts are read once per JVM: every test in surefire's JVM must start libtorch
        // with the argLine's 2, or these tolerances (measured at 2 threads) no longer apply.
        org.junit.jupiter.api.Assertions.assertEquals(THREADS, TorchRuntime.threads(THREADS),
                "libtorch in this test JVM was started with another thread count by an earlier test");
    }

    /**
     * The step criteria: gradients within 1e-5 relative L2 (the clean-image tolerance at step 0
     * of a zeros start), next iterates equal on 99.99 % of elements, variance and extra state within
     * 1e-5, discrete extra state on 99.99 %, on every image: both sides compute the cross-entropy
     * without the cancellation of {@code p - 1}, so an image whose CE has saturated in float32 has
     * a small but accurate gradient rather than rounding noise. Where the two float32 gradients
     * differ by more than 1e-6, the reference also computes the gradient in float64 and the step's
     * {@code grad_rel_l2} is Java's distance to whichever is closer: at a kink (a clip whose input
     * ties its bound in float32, a ReLU at 0) one float32 side can round onto the other branch,
     * and the float64 value says which side did.
     */
    static void assertCriteria(String name, JsonNode r) {
        double a = r.get("min_next_x_agree").asDouble();
        double v = r.get("max_next_v_rel_l2").asDouble();
        double s = r.get("init_x_agree").asDouble();
        assertTrue(s >= 0.9999, name + ": start x_0 agreement " + s + "\n" + r);
        // Step 0 of a zeros start is taken at the clean image itself (see CleanImageTolerance).
        boolean cleanStart = r.get("init_spec").asText().startsWith("zeros");
        for (JsonNode st : r.get("steps")) {
            double g = st.get("grad_rel_l2").asDouble();
            double tol = cleanStart && st.get("step").asInt() == 0 ? CleanImageTolerance.gradRelL2()
                    : CleanImageTolerance.STRICT;
            assertTrue(g <= tol, name + " step " + st.get("step").asInt() + ": gradient rel L2 " + g + " > " + tol + "\n" + r);
            // An ensemble strategy's gradient is built from gradients at x_t: the step's tolerance.
            // Its gradient and state (ensemble_rel_l2: the largest), on the images kept for the iterate.
            double eg = st.path("ensemble_rel_l2").asDouble(0);
            assertTrue(eg <= tol, name + " step " + st.get("step").asInt() + ": ensemble strategy gradient or state rel L2 "
                    + eg + " > " + tol + "\n" + r);
        }
        assertTrue(a >= 0.9999, name + ": next-x agreement " + a + "\n" + r);
        // An ensemble strategy's traced inner iterates, where the reference continued from them.
        double ia = r.path("min_ensemble_inner_agree").asDouble(1);
        assertTrue(ia >= 0.9999, name + ": ensemble strategy inner-iterate agreement " + ia + "\n" + r);
        // An input transform's traced inner step (DeCowA's updated warps), likewise.
        double ii = r.path("min_input_inner_agree").asDouble(1);
        assertTrue(ii >= 0.9999, name + ": input transform inner-step agreement " + ii + "\n" + r);
        assertTrue(v <= 1e-5, name + ": variance rel L2 " + v + "\n" + r);
        double e = r.path("max_next_extra_rel_l2").asDouble(0);
        assertTrue(e <= 1e-5, name + ": extra state rel L2 " + e + "\n" + r);
        // Piecewise-constant extra state (GRA's decay indicator) follows sign(m) and so flips
        // where the iterate does: the iterate's element agreement applies, not a rel L2.
        double ea = r.path("min_next_extra_agree").asDouble(1);
        assertTrue(ea >= 0.9999, name + ": discrete extra state agreement " + ea + "\n" + r);
    }

    /**
     * Runs the attack on 4 CIFAR images with every step dumped (and the result as final_x.f32),
     * then the reference on the dump; returns its report.
     */
    static JsonNode runAndCompare(String name, String update, String loss, String init, List<String> inputs,
            List<String> gradients, String filter, int copies) throws Exception {
        return runAndCompare(name, update, loss, init, inputs, gradients, filter, copies, "logits");
    }

    /** As above, with the ensemble {@code ensemble} (a fusion or a strategy such as {@code svre}). */
    static JsonNode runAndCompare(String name, String update, String loss, String init, List<String> inputs,
            List<String> gradients, String filter, int copies, String ensemble) throws Exception {
        Path data = Shared.cifar10();
        List<ManifestRow> rows = Fixtures.manifest(data, 0, 4);
        List<RgbImage> imgs = Fixtures.images(data, rows);
        float[] clean = Fixtures.batch(imgs);
        long[] shape = {rows.size(), 3, 32, 32};
        int[] y = rows.stream().mapToInt(ManifestRow::trueLabel).toArray();
        int[] t = rows.stream().mapToInt(ManifestRow::targetLabel).toArray();
        AttackConfig cfg = AttackConfig.builder().eps(8).steps(6).stepSize(0.8).update(update).inputs(inputs)
                .gradients(gradients).loss(loss).init(init).filter(filter).copies(copies).ensemble(ensemble).build();
        Attack attack = cfg.toAttack();
        long[] seeds = rows.stream().mapToLong(r -> Draws.seedFor("parity", attack.spec(), r.imageId())).toArray();
        Path dump = Path.of("target", "parity-parts", name).toAbsolutePath();
        StepDump observer = new StepDump(dump);
        List<Path> models = List.of(Shared.cifarModel("resnet20"), Shared.cifarModel("resnet32"));
        observer.meta(models, List.of(1.0, 1.0), attack.epsPixels(), attack.stepSizePixels(), 1.0, 1, 0, shape, y, t,
                attack.steps(), clean);
        observer.extraMeta(String.format(Locale.ROOT, "\"update\": \"%s\", \"loss\": \"%s\", \"init\": \"%s\", \"seeds\": [%s],"
                        + " \"dataset\": \"%s\", \"labelBase\": 0, \"inputs\": [%s], \"gradients\": [%s], \"filter\": \"%s\","
                        + " \"copies\": %d, \"ensemble\": \"%s\"",
                update, loss, attack.init().spec(),
                java.util.Arrays.stream(seeds).mapToObj(Long::toString).collect(Collectors.joining(", ")), data,
                quoted(inputs), quoted(gradients), filter, copies, attack.ensembleMode().spec()));
        // The target start's guides: the job's choice (smallest ImageId of the target class in the
        // whole manifest); the reference makes the same choice independently from dev.csv.
        float[] guides = null;
        if (attack.init().needsGuides()) {
            Map<Integer, String> ids = AttackJob.guideIds(Fixtures.manifest(data, 0, 0));
            List<RgbImage> g = new ArrayList<>();
            for (int i = 0; i < rows.size(); i++) {
                String id = ids.get(t[i]);
                g.add(id == null ? imgs.get(i) : Fixtures.image(data, id));
            }
            guides = Fixtures.batch(g);
        }
        float[] result;
        try (Ensemble ens = Ensemble.load(List.of(Fixtures.bundle(models.get(0), 1.0), Fixtures.bundle(models.get(1), 1.0)));
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            result = new AttackEngine(attack, ens).run(clean, shape, y, t, guides, new Draws(seeds), m, observer);
        }
        writeFloats(dump.resolve("final_x.f32"), result);
        List<String> cmd = new ArrayList<>(List.of(
                Path.of("src/test/python/reference_updates.py").toAbsolutePath().toString(), dump.toString(),
                "--threads", String.valueOf(THREADS)));
        Process p = Shared.pythonProcess(cmd).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(600, TimeUnit.SECONDS) && p.exitValue() == 0, "reference failed: " + err);
        com.fasterxml.jackson.databind.node.ObjectNode r = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree(out);
        return r.put("init_spec", attack.init().spec());
    }

    private static String quoted(List<String> specs) {
        return specs.stream().map(x -> "\"" + x + "\"").collect(Collectors.joining(", "));
    }

    private static void writeFloats(Path p, float[] a) throws java.io.IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(a.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(a);
        java.nio.file.Files.write(p, b.array());
    }
}
