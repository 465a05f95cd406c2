package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;
import java.util.Locale;

/**
 * Random horizontal flip with probability {@code p} per image (one {@code nextFloat} per row), a
 * standard augmentation in input-transformation attacks (e.g. the flip of TransferAttack's
 * BSR/SIA block transforms). Default p 0.5. Spec {@code flip(p=0.5)}.
 */
public record Flip(double p) implements InputTransform {
    @Override
    public NDArray apply(NDArray x, StepContext ctx) {
        return Rows.map(x, (r, xi) -> ctx.draws().rng(r).nextFloat() < p ? xi.flip(3) : xi);
    }

    @Override
    public String spec() {
        return String.format(Locale.ROOT, "flip(p=%s)", p);
    }
}
