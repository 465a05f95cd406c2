package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.advspark.data.ManifestRow;
import io.advspark.data.RgbImage;
import io.advspark.model.Ensemble;
import io.advspark.model.ModelBundle;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.AttackConfig;
import io.advspark.testing.CleanImageTolerance;
import io.advspark.testing.Fixtures;
import io.advspark.testing.Python;
import io.advspark.testing.Report;
import io.advspark.testing.Shared;
import io.advspark.testing.StepDump;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Step parity against the independent PyTorch reference. Iterative sign attacks are chaotic, so
 * both sides are fed the same iterate and momentum at every step of a 10-step run: the input
 * gradients must agree to a relative L2 error of 1e-5 and the next iterates on 99.99 % of
 * elements (|diff| < 1e-6). Whole-trajectory agreement is reported, and on the CIFAR ResNets
 * (far less chaotic) it must reach 99 %.
 *
 * <p>Every model is run through the same libtorch kernels on both sides: the models' own convs agree
 * bit for bit between libtorch 2.7.1 (here) and torch 1.13 (the reference), and the resize runs in
 * float64 on both sides (see {@code BilinearResize}: the float32 kernels of the two releases
 * differ by an ulp, which the MobileNets' ReLU6 clips amplified into 5e-3 gradient errors).
 *
 * <p>Three measured exceptions, both float32 rounding rather than disagreement about the algorithm;
 * the reference reports what is needed to recognise them at every step:
 *
 * <ul>
 *   <li>Ill-conditioned steps. Where a MobileNet activation sits within rounding of a ReLU6 clip
 *       point, PyTorch itself at 1 versus 2 threads moves the gradient by 1e-4..1e-2 (a flipped
 *       mask). On such steps (reference 1-vs-2-thread difference above 1e-5) ours must stay within
 *       twice that difference and agree on 99.9 % of next iterates. Every other step is held to
 *       1e-5 and 99.99 %.
 *   <li>Images the reference itself cannot compute to 1e-5 in float32. The reference measures its
 *       own float32 error per image against the same gradient in float64 (models cast to double);
 *       where that exceeds 1e-5, ours must be within 8x it, and the step's other images are judged
 *       by the rules of any step. A step left with no other image needs gradient cosine 0.999,
 *       and at least two steps with judged images must remain. Both sides compute the
 *       cross-entropy without the cancellation of {@code p - 1}, so a confidently classified
 *       image (softmax rounding to 1) has an accurate gradient and is judged like any other; the
 *       rule catches what float32 cannot resolve beyond that.
 *   <li>Step 0, taken at the clean image itself, on CPUs where the two releases round its exact
 *       ReLU ties apart ({@link CleanImageTolerance}): within 1e-4, next iterates 99.9 % on AMD.
 * </ul>
 */
class StepParityTest {
    private static final int THREADS = 2;
    /**
     * How far ours may be from the reference, in units of the reference's own float32 error
     * (against float64), on images where that error exceeds 1e-5: the two libtorch releases round
     * in different orders.
     */
    private static final double ROUNDING_FACTOR = 8;

    @BeforeAll
    static void engine() {
        Shared.root();
        Shared.python();
        // Thread counts are read once per JVM: every test in surefire's JVM must start libtorch
        // with the argLine's 2, or these tolerances (measured at 2 threads) no longer apply.
        org.junit.jupiter.api.Assertions.assertEquals(THREADS, TorchRuntime.threads(THREADS),
                "libtorch in this test JVM was started with another thread count by an earlier test");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        // case, data, labelBase, models (;-separated), eps, objective, images
        "mobilenets-untargeted, nips17, 1, mobilenet_v1_0.25_128;mobilenet_v1_0.5_160, 16, UNTARGETED, 4",
        "mobilenets-targeted, nips17, 1, mobilenet_v1_0.25_128;mobilenet_v1_0.5_160, 16, TARGETED, 4",
        "mobilenets-weighted, nips17, 1, mobilenet_v1_0.5_160;mobilenet_v2_1.0_224, 16, WEIGHTED, 2",
        "cifar-resnets-untargeted, cifar, 0, resnet20;resnet32, 8, UNTARGETED, 16",
        "cifar-resnets-targeted, cifar, 0, resnet20;resnet32, 8, TARGETED, 16",
    })
    void stepsMatchReference(String name, String data, int labelBase, String models, double eps,
            AttackConfig.Objective objective, int images) throws Exception {
        Path dataDir = data.equals("nips17") ? Shared.nips17() : Shared.cifar10();
        List<Path> paths = new ArrayList<>();
        List<Double> weights = new ArrayList<>();
        List<ModelBundle> bundles = new ArrayList<>();
        String[] names = models.split(";");
        for (int i = 0; i < names.length; i++) {
            Path p = data.equals("nips17") ? Shared.imagenetModel(names[i]) : Shared.cifarModel(names[i]);
            double w = objective == AttackConfig.Objective.WEIGHTED ? (i == 0 ? 1.0 : 0.5) : 1.0;
            paths.add(p);
            weights.add(w);
            bundles.add(Fixtures.bundle(p, w));
        }
        double wu = objective == AttackConfig.Objective.WEIGHTED ? 1.0 : 0;
        double wt = objective == AttackConfig.Objective.WEIGHTED ? 4.0 : 0;
        AttackConfig cfg = AttackConfig.builder().eps(eps).steps(10).stepSize(eps / 10).objective(objective)
                .weights(wu, wt).build();
        List<ManifestRow> rows = Fixtures.manifest(dataDir, labelBase, images);
        List<RgbImage> imgs = Fixtures.images(dataDir, rows);
        float[] clean = Fixtures.batch(imgs);
        long[] shape = {rows.size(), 3, imgs.get(0).height(), imgs.get(0).width()};
        int[] y = rows.stream().mapToInt(r -> r.trueLabel() - labelBase).toArray();
        int[] t = rows.stream().mapToInt(r -> r.targetLabel() - labelBase).toArray();

        Path dump = Path.of("target", "parity", name).toAbsolutePath();
        StepDump observer = new StepDump(dump);
        observer.meta(paths, weights, cfg.epsPixels(), cfg.stepSizePixels(), cfg.decay(),
                cfg.effectiveUntargetedWeight(), cfg.effectiveTargetedWeight(), shape, y, t, cfg.steps(), clean);
        try (Ensemble ens = Ensemble.load(bundles);
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            new AttackEngine(cfg.toAttack(), ens).run(clean, shape, y, t, m, observer);
        }
        String out = Python.run(List.of("step", "--dump", dump.toString(), "--threads", String.valueOf(THREADS)), 600);
        JsonNode r = new ObjectMapper().readTree(out);
        double maxGrad = r.get("max_grad_rel_l2").asDouble();
        double minAgree = r.get("min_next_x_agree").asDouble();
        JsonNode traj = r.get("trajectory");
        double traj1 = traj.get("trajectory_agree_1level").asDouble();
        double trajExact = traj.path("trajectory_agree_1e6").asDouble(traj.path("trajectory_agree_exact").asDouble(Double.NaN));

        int unsaturated = 0;
        int ill = 0;
        int setAside = 0;
        double wellMax = 0;
        double worstRatio = 0;
        for (JsonNode st : r.get("steps")) {
            int i = st.get("step").asInt();
            double self = st.get("ref_thread_grad_rel_l2").asDouble();
            // Images the reference cannot compute to STRICT in float32 (its own error against
            // float64): ours must be within ROUNDING_FACTOR times that error; the step's other
            // images are judged as any step.
            double errSq = 0;
            double refSq = 0;
            long agreeing = 0;
            int judged = 0;
            int n = st.get("target_prob").size();
            for (int k = 0; k < n; k++) {
                double p = st.get("target_prob").get(k).asDouble();
                double errK = st.get("image_grad_err_l2").get(k).asDouble();
                double refK = st.get("image_grad_ref_l2").get(k).asDouble();
                double own = refK == 0 ? 0 : st.get("image_ref_float32_err_l2").get(k).asDouble() / refK;
                if (own > CleanImageTolerance.STRICT) {
                    setAside++;
                    worstRatio = Math.max(worstRatio, errK / refK / own);
                    assertTrue(errK / refK <= ROUNDING_FACTOR * own, name + " step " + i + " image " + k + " (p_target "
                            + p + "): gradient relative L2 error " + errK / refK + " > " + ROUNDING_FACTOR
                            + "x the reference's own float32 error " + own + "\n" + out);
                    continue;
                }
                judged++;
                errSq += errK * errK;
                refSq += refK * refK;
                agreeing += st.get("image_next_x_agree_count").get(k).asLong();
            }
            if (judged == 0) {
                double cos = st.get("grad_cosine").asDouble();
                assertTrue(cos >= 0.999, name + " step " + i + " (every image rounding-limited): gradient cosine " + cos + " < 0.999\n" + out);
                continue;
            }
            unsaturated++;
            double g = refSq == 0 ? 0 : Math.sqrt(errSq / refSq);
            double agree = (double) agreeing / ((long) judged * (clean.length / n));
            if (self <= 1e-5) {
                wellMax = Math.max(wellMax, g);
                // These runs start from the clean image: step 0 is taken at it (see CleanImageTolerance).
                double tol = i == 0 ? CleanImageTolerance.gradRelL2() : CleanImageTolerance.STRICT;
                double agreeTol = i == 0 ? CleanImageTolerance.nextXAgree() : 0.9999;
                assertTrue(g <= tol, name + " step " + i + ": gradient relative L2 error " + g + " > " + tol + "\n" + out);
                assertTrue(agree >= agreeTol, name + " step " + i + ": next-iterate agreement " + agree + " < " + agreeTol
                        + "\n" + out);
            } else {
                // Ill-conditioned step: PyTorch at 1 vs 2 threads already disagrees by more than 1e-5.
                ill++;
                assertTrue(g <= Math.max(1e-5, 2 * self), name + " step " + i + ": gradient relative L2 error " + g
                        + " > 2x the reference's own 1-vs-2-thread difference " + self + "\n" + out);
                assertTrue(agree >= 0.999, name + " step " + i + ": next-iterate agreement " + agree + " < 99.9%\n" + out);
            }
        }
        Report.append("parity.md", String.format(Locale.ROOT,
                "| %s | %d images | max grad rel L2 %.3g (well-conditioned steps %.3g; %d ill-conditioned, %d saturated,"
                        + " %d image-steps cancellation-limited, worst %.2f of their bound) "
                        + "| min next-x agreement %.6f | trajectory within 1 level %.4f, within 1e-6 %.4f |",
                name, rows.size(), maxGrad, wellMax, ill, r.get("steps").size() - unsaturated, setAside, worstRatio, minAgree,
                traj1, trajExact));
        assertTrue(unsaturated >= 2, name + ": only " + unsaturated + " unsaturated steps to judge\n" + out);
        // A free-running trajectory can only be expected to stay together where every teacher-forced
        // step agreed exactly: one flipped element (a broken tie at the clean image, a saturated
        // image's rounding noise) seeds a divergence that sign steps amplify.
        if (data.equals("cifar") && minAgree == 1.0 && setAside == 0) {
            assertTrue(traj1 >= 0.99, name + ": CIFAR whole-trajectory agreement " + traj1 + " < 99%\n" + out);
        }
    }
}
