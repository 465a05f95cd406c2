package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;

/**
 * Additive Gaussian noise {@code x + N(0, std^2)} on the [0,1] scale, not clipped (clipping would
 * zero the gradient at saturated pixels), drawn per image from its own stream (the Gaussian
 * augmentation of e.g. Wu et al., "Improving the Transferability of Adversarial Samples with
 * Adversarial Transformations", and VMI's sampling idea applied to the input). Default std 0.05.
 * Spec {@code noise(std=0.05)}.
 */
public record Noise(double std) implements InputTransform {
    public static final Entry<Noise> DECLARATION = Entry.of(Kind.INPUT, "noise", Noise.class)
            .summary("Additive Gaussian noise (not clipped)")
            .paper(Entry.NO_PAPER)
            .param(Param.dbl("std", 0.05, 0, 10,
                    "standard deviation on the [0,1] scale"))
            .randomised()
            .build(s -> new Noise(s.dbl("std")));

    @Override
    public NDArray apply(NDArray x, StepContext ctx) {
        int rows = (int) x.getShape().get(0);
        int per = (int) (x.size() / rows);
        return x.add(x.getManager().create(ctx.draws().gaussian(rows, per, (float) std), x.getShape()));
    }
}
