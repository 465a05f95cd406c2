package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;

/**
 * Random horizontal flip with probability {@code p} per image (one {@code nextFloat} per row), a
 * standard augmentation in input-transformation attacks (e.g. the flip of TransferAttack's
 * BSR/SIA block transforms). Default p 0.5. Spec {@code flip(p=0.5)}.
 */
public record Flip(double p) implements InputTransform {
    public static final Entry<Flip> DECLARATION = Entry.of(Kind.INPUT, "flip", Flip.class)
            .summary("Random horizontal flip")
            .paper(Entry.NO_PAPER)
            .param(Param.dbl("p", 0.5, 0, 1,
                    "probability of flipping an image"))
            .randomised()
            .build(s -> new Flip(s.dbl("p")));

    @Override
    public NDArray apply(NDArray x, StepContext ctx) {
        return Rows.map(x, (r, xi) -> ctx.draws().rng(r).nextFloat() < p ? xi.flip(3) : xi);
    }
}
