package io.advspark.attack;

import com.fasterxml.jackson.databind.JsonNode;
import io.advspark.model.ModelBundle;
import io.advspark.model.ModelLoader;
import io.advspark.testing.Report;
import io.advspark.testing.Shared;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Teacher-forced step parity of {@code checkpoints(per-step=k)} against the independent reference
 * src/test/python/reference_ext_checkpoints.py (which replays the per-step member draws from the
 * same per-image streams and averages every member's logits of the whole batch with 0/1 weights),
 * on 4 CIFAR images and the surrogates {checkpoint group of 3 (the shared ResNet-20 fine-tuned by
 * tools/collect_checkpoints.py, see {@link CheckpointsTest#collectGroup}), ResNet-32}.
 */
class CheckpointsParityTest {
    static List<ModelBundle> bundles;

    @BeforeAll
    static void engine() throws Exception {
        ParityHarness.engine();
        Path group = CheckpointsTest.collectGroup(Path.of("target", "checkpoints-test").toAbsolutePath(), "r20lgv");
        bundles = ModelLoader.load(List.of(CheckpointsTest.groupSource(group, 1.0),
                CheckpointsTest.file(Shared.cifarModel("resnet32"))), CheckpointsTest.STORAGE, ParityHarness.THREADS);
    }

    @ParameterizedTest(name = "{0} [{1}] copies={2} {3}")
    @CsvSource(delimiter = ';', value = {
        "mi(decay=1.0);;1;checkpoints(per-step=2)",
        "mi(decay=1.0);di(p=0.5, resize=1.1);2;checkpoints(per-step=2)",
        "vmi(decay=1.0, n=2, beta=1.5);;1;checkpoints(per-step=1)",
    })
    void checkpointSamplingMatchesReference(String update, String inputs, int copies, String augment) throws Exception {
        List<String> in = inputs == null ? List.of() : List.of(inputs);
        String name = "ckpt-" + (update + "-" + inputs + "-" + copies + "-" + augment).replaceAll("[^a-z0-9]+", "");
        JsonNode r = ParityHarness.runAndCompare(name, update, "ce(untargeted=1, targeted=0)", "zeros", in, List.of(),
                "none", copies, "logits", bundles, List.of(augment));
        Report.append("parity-checkpoints.md", String.format(Locale.ROOT,
                "| %s | %s | copies %d | %s | max grad rel L2 %.3g | min next-x agreement %.6f |",
                update, inputs == null ? "" : inputs, copies, augment, r.get("max_grad_rel_l2").asDouble(),
                r.get("min_next_x_agree").asDouble()));
        ParityHarness.assertCriteria(name, r);
    }
}
