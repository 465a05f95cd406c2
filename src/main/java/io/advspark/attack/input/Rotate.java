package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;

/**
 * Random rotation about the image centre by an angle uniform in {@code [-degrees, degrees]} (one
 * {@code nextFloat} per row), bilinear, zero outside the image, built from gathers so the
 * gradient flows (the rotation of the input-transformation family, e.g. Wang et al.'s
 * block-shuffle-and-rotation BSR, 2023, which uses up to 24 degrees). Default 10 degrees. Spec
 * {@code rotate(degrees=10)}.
 */
public record Rotate(double degrees) implements InputTransform {
    public static final Entry<Rotate> DECLARATION = Entry.of(Kind.INPUT, "rotate", Rotate.class)
            .summary("Random rotation")
            .paper(Entry.NO_PAPER)
            .param(Param.dbl("degrees", 10, 0, 180,
                    "largest rotation angle in degrees"))
            .randomised()
            .build(s -> new Rotate(s.dbl("degrees")));

    @Override
    public NDArray apply(NDArray x, StepContext ctx) {
        Shape s = x.getShape();
        int c = (int) s.get(1);
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        return Rows.map(x, (r, xi) -> {
            double deg = (2 * ctx.draws().rng(r).nextFloat() - 1) * degrees;
            return rotate(xi, Math.toRadians(deg), c, h, w);
        });
    }

    /**
     * Rotates one image [1,C,H,W] by {@code theta} radians (counter-clockwise on screen) about its
     * centre, bilinear, zero outside: {@link Taps#rotate} of the whole image.
     */
    public static NDArray rotate(NDArray xi, double theta, int c, int h, int w) {
        Taps t = new Taps(1, h, w, 4);
        t.rotate(0, 0, 0, 0, 0, h, w, theta);
        return t.apply(xi);
    }
}
