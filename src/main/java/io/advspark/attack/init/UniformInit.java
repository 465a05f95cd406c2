package io.advspark.attack.init;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;
import java.util.Locale;

/**
 * Uniform random start in the eps-ball, x_0 = x + U(-r eps, r eps), as in PGD (Madry et al.,
 * ICLR 2018; default r = 1). Drawn per image from its own stream.
 */
public record UniformInit(double radius) implements Initializer {
    @Override
    public NDArray start(StepContext ctx) {
        NDArray c = ctx.clean();
        int rows = (int) c.getShape().get(0);
        int per = (int) (c.size() / rows);
        float r = (float) (radius * ctx.eps01());
        return c.add(c.getManager().create(ctx.draws().uniform(rows, per, -r, r), c.getShape()));
    }

    @Override
    public String spec() {
        return String.format(Locale.ROOT, "uniform(radius=%s)", radius);
    }
}
