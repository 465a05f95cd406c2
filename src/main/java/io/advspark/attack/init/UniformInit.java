package io.advspark.attack.init;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;

/**
 * Uniform random start in the eps-ball, x_0 = x + U(-r eps, r eps), as in PGD (Madry et al.,
 * ICLR 2018; default r = 1). Drawn per image from its own stream.
 */
public record UniformInit(double radius) implements Initializer {
    public static final Entry<UniformInit> DECLARATION = Entry.of(Kind.INIT, "uniform", UniformInit.class)
            .summary("Uniform random start in the radius x eps ball (the PGD start)")
            .paper("Madry et al., ICLR 2018 (random start)")
            .param(Param.dbl("radius", 1.0, 0, 1,
                    "half-width of the start, in units of eps"))
            .randomised()
            .build(s -> new UniformInit(s.dbl("radius")));

    @Override
    public NDArray start(StepContext ctx) {
        NDArray c = ctx.clean();
        int rows = (int) c.getShape().get(0);
        int per = (int) (c.size() / rows);
        float r = (float) (radius * ctx.eps01());
        return c.add(c.getManager().create(ctx.draws().uniform(rows, per, -r, r), c.getShape()));
    }
}
