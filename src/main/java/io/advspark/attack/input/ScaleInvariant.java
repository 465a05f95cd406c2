package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.advspark.attack.StepContext;
import java.util.Locale;

/**
 * SI, scale invariance (Lin, Song, He, Wang and Hopcroft, "Nesterov Accelerated Gradient and
 * Scale Invariance for Adversarial Attacks", ICLR 2020): the loss is averaged over the scale
 * copies {@code x / 2^i}, i = 0..m-1; copy i of row r at row {@code i * rows + r} (the layout of
 * TransferAttack's SIM, {@code cat([x / 2**i for i in range(m)])}). Deterministic. Published
 * default m = 5. Spec {@code si(copies=5)}.
 */
public record ScaleInvariant(int copies) implements InputTransform {
    @Override
    public NDArray apply(NDArray x, StepContext ctx) {
        return scaled(x, copies);
    }

    /** x, x/2, ..., x/2^(copies-1) stacked on the batch axis (copy i at rows i*N..). */
    static NDArray scaled(NDArray x, int copies) {
        if (copies == 1) {
            return x;
        }
        NDList parts = new NDList(copies);
        for (int i = 0; i < copies; i++) {
            parts.add(i == 0 ? x : x.div((float) Math.pow(2, i)));
        }
        return Rows.concat(parts);
    }

    @Override
    public String spec() {
        return String.format(Locale.ROOT, "si(copies=%d)", copies);
    }
}
