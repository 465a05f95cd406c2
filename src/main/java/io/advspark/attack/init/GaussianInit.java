package io.advspark.attack.init;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;

/**
 * Gaussian random start x_0 = x + N(0, (sigma eps)^2), clipped to the eps-ball and [0,1] by the
 * engine (default sigma = 0.5 of eps). Drawn per image from its own stream.
 */
public record GaussianInit(double sigma) implements Initializer {
    public static final Entry<GaussianInit> DECLARATION = Entry.of(Kind.INIT, "gaussian", GaussianInit.class)
            .summary("Gaussian random start x + N(0, (sigma eps)^2), clipped to the budget")
            .paper(Entry.NO_PAPER)
            .param(Param.dbl("sigma", 0.5, 0, 10,
                    "standard deviation, in units of eps"))
            .randomised()
            .build(s -> new GaussianInit(s.dbl("sigma")));

    @Override
    public NDArray start(StepContext ctx) {
        NDArray c = ctx.clean();
        int rows = (int) c.getShape().get(0);
        int per = (int) (c.size() / rows);
        float s = (float) (sigma * ctx.eps01());
        return c.add(c.getManager().create(ctx.draws().gaussian(rows, per, s), c.getShape()));
    }
}
