package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;

/**
 * Random brightness scaling: {@code x / 2^k} with k uniform in {@code 0..m-1} per image (one
 * {@code nextInt} per row), a one-copy, randomised SI (Lin et al., ICLR 2020). Default m 5.
 * Spec {@code brightness(m=5)}.
 */
public record Brightness(int m) implements InputTransform {
    public static final Entry<Brightness> DECLARATION = Entry.of(Kind.INPUT, "brightness", Brightness.class)
            .summary("Random darkening x / 2^k, k uniform in 0..m-1")
            .paper(Entry.NO_PAPER)
            .param(Param.integer("m", 5, 1, 32,
                    "number of brightness levels"))
            .randomised()
            .build(s -> new Brightness(s.integer("m")));

    @Override
    public NDArray apply(NDArray x, StepContext ctx) {
        int rows = (int) x.getShape().get(0);
        float[] s = new float[rows];
        for (int r = 0; r < rows; r++) {
            s[r] = (float) Math.pow(2, -ctx.draws().rng(r).nextInt(m));
        }
        return x.mul(x.getManager().create(s, new ai.djl.ndarray.types.Shape(rows, 1, 1, 1)));
    }
}
