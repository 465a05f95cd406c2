package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import io.advspark.attack.StepContext;
import io.advspark.model.Autograd;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;

/**
 * SI, scale invariance (Lin, Song, He, Wang and Hopcroft, "Nesterov Accelerated Gradient and
 * Scale Invariance for Adversarial Attacks", ICLR 2020): the loss is averaged over the scale
 * copies {@code x / 2^i}, i = 0..m-1; copy i of row r at row {@code i * rows + r} (the layout of
 * TransferAttack's SIM, {@code cat([x / 2**i for i in range(m)])}). Deterministic. Published
 * default m = 5. Spec {@code si(copies=5)}.
 */
public record ScaleInvariant(int copies) implements InputTransform {
    public static final Entry<ScaleInvariant> DECLARATION = Entry.of(Kind.INPUT, "si", ScaleInvariant.class)
            .summary("Scale invariance: copies x / 2^i, i < copies, in one forward pass")
            .paper("Lin et al., \"Nesterov Accelerated Gradient and Scale Invariance for Adversarial Attacks\", ICLR 2020")
            .param(Param.integer("copies", 5, 1, 32,
                    "scale copies"))
            .build(s -> new ScaleInvariant(s.integer("copies")));

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
            // An array libtorch owns, not div(Number), which frees the number before the backward
            // reads it (Autograd#constant).
            parts.add(i == 0 ? x : x.div(Autograd.scalar(x.getManager(), (float) Math.pow(2, i))));
        }
        return Rows.concat(parts);
    }
}
