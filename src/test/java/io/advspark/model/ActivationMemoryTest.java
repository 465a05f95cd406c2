package io.advspark.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.advspark.testing.Fixtures;
import io.advspark.testing.Shared;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The memory per row measured on real surrogates from the shared models is positive and
 * plausible: above what the tensors a backward must keep add up to, below ten times that.
 * ResNet-20 on 32x32 CIFAR keeps about 2 MiB per row by count (per convolution its input, the
 * BatchNorm input and the ReLU output, 16x32x32 floats = 64 KiB each over 7 convolutions, half
 * and a quarter of that over the 6 of each later stage); the backward's gradient buffers and the
 * allocator come on top (measured here with 2 libtorch threads: 2.6 and 3.1 MiB in two runs).
 * ResNet-56 has three times the blocks (measured: 5.7 and 5.9 MiB).
 */
class ActivationMemoryTest {

    private static long measure(Path pt) throws Exception {
        try (Classifier c = Classifier.load(Fixtures.bundle(pt, 1.0));
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            long perRow = ActivationMemory.measure(c, m);
            System.out.printf(Locale.ROOT, "ActivationMemoryTest: %s: %.3f MiB per row%n", pt.getFileName(),
                    perRow / 1048576.0);
            return perRow;
        }
    }

    @Test
    void cifarResnetsMeasurePositiveAndPlausible() throws Exception {
        TorchRuntime.start(0);
        long r20 = measure(Shared.cifarModel("resnet20"));
        long r56 = measure(Shared.cifarModel("resnet56"));
        assertTrue(r20 > 1L << 20 && r20 < 20L << 20, "resnet20: " + r20 + " bytes per row");
        assertTrue(r56 > r20 && r56 < 60L << 20, "resnet56: " + r56 + " bytes per row");
    }
}
