package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.advspark.data.ManifestRow;
import io.advspark.data.RgbImage;
import io.advspark.model.Ensemble;
import io.advspark.model.ExportTool;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.AttackConfig;
import io.advspark.testing.Fixtures;
import io.advspark.testing.Report;
import io.advspark.testing.Shared;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Step parity of the feature-level losses (ILA, FIA, NAA, ILPD) against
 * src/test/python/reference_ext_features.py, on the shared CIFAR ResNet-20 and ResNet-32 exported
 * here from their Python sources with taps layer2 and layer3.1 (tools/export_model.py): the
 * reference takes tap gradients with torch.autograd.grad on the returned taps, Java through the
 * exporter's from_tap methods. Besides the step criteria, each loss's per-attack state (ILA's
 * direction and reference result, FIA's aggregate gradient with the masks replayed from the
 * same streams, NAA's integrated gradient and baseline, ILPD's per-step noise and noisy reference
 * activations) is compared; ILPD's reference forwards its eager module with a hook on the tap.
 * The losses run on torchvision's ResNet-18 (random weights) as well.
 */
class FeatureLossParityTest {
    @TempDir
    static Path dir;

    static List<Path> tapped;
    /** torchvision's ResNet-18, random weights (seed 0), at 32 px, with the same taps. */
    static Path torchvision;

    @BeforeAll
    static void export() throws Exception {
        ParityHarness.engine();
        tapped = List.of(
                ExportTool.exportCifar(dir, "r20_taps", "resnet20", "CifarResNet(20)", "--taps", "layer2,layer3.1"),
                ExportTool.exportCifar(dir, "r32_taps", "resnet32", "CifarResNet(32)", "--taps", "layer2,layer3.1"));
        torchvision = ExportTool.exportTorchvision(dir, "tv_r18_taps", "resnet18", 32, "--taps", "layer2,layer3.1");
    }

    /**
     * The same losses on torchvision's ResNet-18 (random weights): another architecture family
     * (Bottleneck-free BasicBlocks with 1x1 projection shortcuts, a max-pool stem, 1000 classes).
     */
    @ParameterizedTest(name = "torchvision resnet18: {0} {1}")
    @CsvSource(delimiter = ';', value = {
        "mi(decay=1.0); ila(tap=layer2, reference=mi, reference_steps=3)",
        "mi(decay=1.0); fia(tap=layer3.1, drop=0.3, copies=8)",
        "mi(decay=1.0); naa(tap=layer2, n=8, gamma=1.0)",
        "mi(decay=1.0); ilpd(tap=layer2, gamma=0.1, sigma=0.05)",
    })
    void featureLossesMatchReferenceOnTorchvisionResNet18(String update, String loss) throws Exception {
        String name = "feat-tv-" + loss.replaceAll("[^a-z0-9.]", "");
        JsonNode r = ParityHarness.runAndCompare(name, update, loss, "zeros", List.of(), List.of(), "none", 1, "logits",
                List.of(torchvision));
        Report.append("parity-features.md", String.format(Locale.ROOT,
                "| %s | %s | torchvision resnet18 (random) | max grad rel L2 %.3g | min next-x agreement %.6f |"
                        + " max loss state rel L2 %.3g | min loss state agreement %.6f |",
                update, loss, r.get("max_grad_rel_l2").asDouble(), r.get("min_next_x_agree").asDouble(),
                r.get("max_loss_state_rel_l2").asDouble(), r.get("min_loss_state_agree").asDouble()));
        ParityHarness.assertCriteria(name, r);
    }

    @ParameterizedTest(name = "{0} {1} [{2}] copies={3}")
    @CsvSource(delimiter = ';', value = {
        "mi(decay=1.0); ila(tap=layer2, reference=mi, reference_steps=4);; 1",
        "ifgsm; ila(tap=layer3.1, reference=ifgsm, reference_steps=3);; 1",
        "mi(decay=1.0); fia(tap=layer2, drop=0.3, copies=30);; 1",
        "mi(decay=1.0); fia(tap=layer3.1, drop=0.1, copies=8, objective=logit); di(p=0.5, resize=1.1); 2",
        "mi(decay=1.0); naa(tap=layer2, n=30, gamma=1.0);; 1",
        "ifgsm; naa(tap=layer3.1, n=10, gamma=0.5, objective=logit);; 1",
        "mi(decay=1.0); ilpd(tap=layer2, gamma=0.1, sigma=0.05);; 1",
        "mi(decay=1.0); ilpd(tap=layer3.1, gamma=0.5, sigma=0.1, untargeted=1, targeted=1); di(p=0.5, resize=1.1); 2",
        "vmi(decay=1.0, n=2, beta=1.5); ilpd(tap=layer2);; 1",
    })
    void featureLossesMatchReference(String update, String loss, String inputs, int copies) throws Exception {
        List<String> in = inputs == null ? List.of() : List.of(inputs.split("\\|"));
        String name = "feat-" + loss.replaceAll("[^a-z0-9.]", "") + "-" + update.replaceAll("[^a-z]", "") + copies;
        JsonNode r = ParityHarness.runAndCompare(name, update, loss, "zeros", in, List.of(), "none", copies, "logits",
                tapped);
        Report.append("parity-features.md", String.format(Locale.ROOT,
                "| %s | %s | %s copies=%d | max grad rel L2 %.3g | min next-x agreement %.6f | max loss state rel L2 %.3g |"
                        + " min loss state agreement %.6f |",
                update, loss, in, copies, r.get("max_grad_rel_l2").asDouble(), r.get("min_next_x_agree").asDouble(),
                r.get("max_loss_state_rel_l2").asDouble(), r.get("min_loss_state_agree").asDouble()));
        ParityHarness.assertCriteria(name, r);
    }

    /**
     * FIA's masked copies and NAA's path points go through the surrogates in micro-batches under
     * the row cap, drawn per row from the row's image stream: the result is the same bit for bit
     * whatever the cap (as RowCapInvarianceTest checks for the sampling parts).
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        "fia(tap=layer2, drop=0.3, copies=6)",
        "naa(tap=layer3.1, n=5)",
        "ila(tap=layer2, reference_steps=2)",
        "ilpd(tap=layer2)",
    })
    void resultsDoNotDependOnTheRowCap(String loss) throws Exception {
        Attack attack = AttackConfig.builder().eps(8).steps(3).stepSize(2).update("mi(decay=1.0)").loss(loss)
                .inputs(List.of("di(p=0.5, resize=1.1)")).build().toAttack();
        Path data = Shared.cifar10();
        List<ManifestRow> rows = Fixtures.manifest(data, 0, 5);
        List<RgbImage> images = Fixtures.images(data, rows);
        float[] clean = Fixtures.batch(images);
        int[] y = rows.stream().mapToInt(ManifestRow::trueLabel).toArray();
        long[] seeds = rows.stream().mapToLong(r -> Draws.seedFor("row-cap", attack.spec(), r.imageId())).toArray();
        long[] shape = {rows.size(), 3, 32, 32};
        try (Ensemble ens = Ensemble.load(List.of(Fixtures.bundle(tapped.get(0), 1.0), Fixtures.bundle(tapped.get(1), 2.0)));
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            float[] whole = new AttackEngine(attack, ens, 100_000).run(clean, shape, y, y, new Draws(seeds), m, null);
            for (int cap : new int[] {1, 3, 7}) {
                float[] cut = new AttackEngine(attack, ens, cap).run(clean, shape, y, y, new Draws(seeds), m, null);
                assertArrayEquals(whole, cut, attack.spec() + ": max-rows " + cap + " differs from one forward per call");
            }
        }
    }

    /** A surrogate without the tap, or a fusion the loss cannot express, is refused naming it. */
    @Test
    void untappedSurrogatesAndOtherEnsemblesAreRefused() throws Exception {
        Attack fia = AttackConfig.builder().eps(8).steps(2).stepSize(2).update("mi(decay=1.0)").loss("fia(tap=layer2)")
                .build().toAttack();
        try (Ensemble plain = Ensemble.load(List.of(Fixtures.bundle(Shared.cifarModel("resnet20"), 1.0)));
                Ensemble taps = Ensemble.load(List.of(Fixtures.bundle(tapped.get(0), 1.0)))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AttackEngine(fia, plain));
            assertTrue(e.getMessage().contains("has no tap 'layer2'") && e.getMessage().contains("resnet20"), e.getMessage());
            Attack probs = AttackConfig.builder().eps(8).steps(2).stepSize(2).update("mi(decay=1.0)")
                    .loss("naa(tap=layer2)").ensemble("probs").build().toAttack();
            e = assertThrows(IllegalArgumentException.class, () -> new AttackEngine(probs, taps));
            assertTrue(e.getMessage().contains("logit ensemble"), e.getMessage());
        }
    }
}
