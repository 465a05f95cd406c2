package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.advspark.testing.Report;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Step parity of the spectrum simulation (SSA, Long et al., ECCV 2022) against
 * src/test/python/reference_ext_ssa.py, which replays each image's noise (java.util.Random's
 * nextGaussian) and masks from the same seeds and builds its DCT from the paper's definition:
 * update | inputs | gradients | filter | copies.
 */
class SpectrumParityTest {
    @BeforeAll
    static void engine() {
        ParityHarness.engine();
    }

    @ParameterizedTest(name = "{0} [{1}] [{2}] {3} x{4}")
    @CsvSource(delimiter = '|', value = {
        // 7 copies: built 5 at a time (copiesPerChunk), the two chunks' gradients summed.
        "mi(decay=1.0) | ssa(copies=7, rho=0.5, sigma=1) | | none | 1",
        // NI's look-ahead point on a tiled batch (each image's stream used by both of its rows),
        // then DI on the spectrum copies (the authors' S2I-DI order, model(DI(x_idct))) and SI.
        // With ssa(rho=0.3, sigma=0.5) image 1 was still so confidently classified at step 0 that
        // its gradient was float32 rounding (mean |g| 3.7e-6 against 0.1-0.3 for the others) and
        // 2 of its signs differed (next-x agreement 0.99984; gradient rel L2 8e-7): the noisier
        // setting leaves that saturation, which is not SSA's (see PartsParityTest's targeted CE).
        "ni(decay=1.0) | ssa(copies=2, rho=0.4, sigma=2); di(p=0.5, resize=1.1); si(copies=2) | | none | 2",
        // The published settings, ssa(copies=20, rho=0.5, sigma=1) on mi(decay=1.0), passed too
        // (max gradient rel L2 4.0e-7, next-x agreement 1.0) but took 150-200 s on the shared
        // 2-core machine, so it is not a standing case. Not a case either: a transform whose
        // float32 rounding differs between the implementations (DI's resize, a filter's
        // convolution) BEFORE ssa: presumably its mask spreads each last-bit difference over the plane,
        // and these ResNets' input gradient moves by 2e-4..4e-3 relative L2 for a 1e-7 relative
        // change of their input (measured), so "ni | di; ssa; si | | gaussian(sigma=1) | 2" met
        // the 1e-5 bound at 4 steps of 6 and missed it at 2 (3.2e-4, next-x agreement 1.0).
    })
    void spectrumSimulationMatchesReference(String update, String inputs, String gradients, String filter, int copies)
            throws Exception {
        List<String> in = inputs == null ? List.of() : List.of(inputs.split(";\\s*"));
        List<String> gr = gradients == null ? List.of() : List.of(gradients.split(";\\s*"));
        String name = (update + "-" + in + "-" + gr + "-" + filter + "-" + copies).replaceAll("[^a-z0-9.]", "");
        JsonNode r = ParityHarness.runAndCompare(name, update, "ce(untargeted=1, targeted=0)", "zeros", in, gr, filter, copies);
        Report.append("parity-parts.md", String.format(Locale.ROOT,
                "| %s | inputs %s | gradients %s | filter %s | copies %d | max grad rel L2 %.3g |"
                        + " min next-x agreement %.6f |",
                update, in, gr, filter, copies, r.get("max_grad_rel_l2").asDouble(), r.get("min_next_x_agree").asDouble()));
        ParityHarness.assertCriteria(name, r);
        if (!filter.equals("none")) {
            double f = r.get("final_x_agree").asDouble();
            assertTrue(f >= 0.9999, name + ": result agreement " + f);
        }
    }
}
