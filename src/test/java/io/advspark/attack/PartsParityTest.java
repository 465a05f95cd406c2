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
 * Step parity of the update rules, starts and losses, and of composed recipes (DI, SI, TI, the
 * perturbation filters), against src/test/python/reference_updates.py on the CIFAR ResNets (where
 * float rounding is not amplified), with the random draws of the uniform and Perlin starts, of
 * variance tuning and of DI replayed from the same per-image seeds on both sides; the start x_0
 * itself is compared too (the target start's guide images are chosen by each side
 * independently), and with a filter the attack's result {@code img(x_T)}.
 */
class PartsParityTest {
    @BeforeAll
    static void engine() {
        ParityHarness.engine();
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = ';', value = {
        "ifgsm; ce(untargeted=1, targeted=0); zeros",
        "pgd; ce(untargeted=1, targeted=0); zeros",
        "ni(decay=1.0); ce(untargeted=1, targeted=0); zeros",
        "vmi(decay=1.0, n=4, beta=1.5); ce(untargeted=1, targeted=0); zeros",
        "vni(decay=1.0, n=4, beta=1.5); ce(untargeted=1, targeted=0); zeros",
        "mi(decay=1.0); logit; zeros",
        "ifgsm; margin(targeted=false); zeros",
        "mi(decay=0.5); ce(untargeted=1, targeted=2); uniform(radius=0.5)",
        // Targeted CE saturates on these white-box ResNets within a few steps (1 - p_target rounds
        // to 0 in float32, leaving a gradient of rounding noise), so the Perlin cases, which are
        // about the start and the streams, use the untargeted CE.
        "mi(decay=1.0); potrip(lambda=0.01, margin=0.007); zeros",
        "ifgsm; potrip(lambda=0.5, margin=0.3); zeros",
        "vmi(decay=1.0, n=2, beta=1.5); ce(untargeted=1, targeted=0); perlin(period=8, octaves=3, sine=12)",
        "mi(decay=1.0); ce(untargeted=1, targeted=0); perlin(period=5, octaves=2, sine=4, amplitude=0.5, map=sign)",
        "mi(decay=1.0); potrip(lambda=0.01, margin=0.007); target(alpha=0.5)",
        "ifgsm; logit; target",
    })
    void updateRulesAndLossesMatchReference(String update, String loss, String init) throws Exception {
        String name = update.replaceAll("[^a-z]", "") + "-" + loss.replaceAll("[^a-z0-9.]", "") + "-"
                + init.replaceAll("[^a-z0-9.]", "");
        JsonNode r = ParityHarness.runAndCompare(name, update, loss, init, List.of(), List.of(), "none", 1);
        Report.append("parity-parts.md", String.format(Locale.ROOT,
                "| %s | %s | %s | max grad rel L2 %.3g | min next-x agreement %.6f | max variance rel L2 %.3g |"
                        + " start agreement %.6f |",
                update, loss, r.get("init_spec").asText(), r.get("max_grad_rel_l2").asDouble(),
                r.get("min_next_x_agree").asDouble(), r.get("max_next_v_rel_l2").asDouble(),
                r.get("init_x_agree").asDouble()));
        ParityHarness.assertCriteria(name, r);
    }

    /**
     * Input transforms (DI with its draws replayed, SI), TI on the gradient and the perturbation
     * filters inside whole steps: update | inputs | gradients | filter | copies.
     */
    @ParameterizedTest(name = "{0} [{1}] [{2}] {3} x{4}")
    @CsvSource(delimiter = '|', value = {
        "mi(decay=1.0) | | | gaussian(sigma=1) | 1",
        "mi(decay=1.0) | | | gaussian(sigma=0.7) | 1",
        "mi(decay=1.0) | | | dct(keep=0.25) | 1",
        // MI-DI-TI-SI: TI's kernel shrunk to 5 px for 32 x 32 images.
        "mi(decay=1.0) | di(p=0.5, resize=1.1); si(copies=5) | ti(kernel=gaussian, size=5, sigma=3) | none | 1",
        "ni(decay=1.0) | di(p=0.5, resize=1.1) | | none | 1",
        // DI on a tiled batch (each image's stream drawn once per copy, in row order), variance
        // tuning's neighbour noise (all neighbours first) followed by DI's draws, and a filter under all of it.
        "vmi(decay=1.0, n=2, beta=1.5) | di(p=0.5, resize=1.1); si(copies=2) | ti(kernel=gaussian, size=5, sigma=3) | gaussian(sigma=1) | 2",
    })
    void composedRecipesMatchReference(String update, String inputs, String gradients, String filter, int copies)
            throws Exception {
        List<String> in = inputs == null ? List.of() : List.of(inputs.split(";\\s*"));
        List<String> gr = gradients == null ? List.of() : List.of(gradients.split(";\\s*"));
        String name = (update + "-" + in + "-" + gr + "-" + filter + "-" + copies).replaceAll("[^a-z0-9.]", "");
        JsonNode r = ParityHarness.runAndCompare(name, update, "ce(untargeted=1, targeted=0)", "zeros", in, gr, filter, copies);
        Report.append("parity-parts.md", String.format(Locale.ROOT,
                "| %s | inputs %s | gradients %s | filter %s | copies %d | max grad rel L2 %.3g |"
                        + " min next-x agreement %.6f | max variance rel L2 %.3g | result agreement %s |",
                update, in, gr, filter, copies, r.get("max_grad_rel_l2").asDouble(),
                r.get("min_next_x_agree").asDouble(), r.get("max_next_v_rel_l2").asDouble(),
                r.get("final_x_agree").isNull() ? "-" : String.format(Locale.ROOT, "%.6f", r.get("final_x_agree").asDouble())));
        ParityHarness.assertCriteria(name, r);
        if (!filter.equals("none")) {
            double f = r.get("final_x_agree").asDouble();
            assertTrue(f >= 0.9999, name + ": result agreement " + f);
        }
    }
}
