package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
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

    /** Rotates one image [1,C,H,W] by {@code theta} radians (counter-clockwise on screen). */
    public static NDArray rotate(NDArray xi, double theta, int c, int h, int w) {
        int hw = h * w;
        long[][] idx = new long[4][hw];
        float[][] wt = new float[4][hw];
        double cy = (h - 1) / 2.0;
        double cx = (w - 1) / 2.0;
        double cos = Math.cos(theta);
        double sin = Math.sin(theta);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int o = y * w + x;
                double sx = cos * (x - cx) + sin * (y - cy) + cx;
                double sy = -sin * (x - cx) + cos * (y - cy) + cy;
                int x0 = (int) Math.floor(sx);
                int y0 = (int) Math.floor(sy);
                double fx = sx - x0;
                double fy = sy - y0;
                int k = 0;
                for (int dy = 0; dy <= 1; dy++) {
                    for (int dx = 0; dx <= 1; dx++, k++) {
                        int yy = y0 + dy;
                        int xx = x0 + dx;
                        double weight = (dx == 1 ? fx : 1 - fx) * (dy == 1 ? fy : 1 - fy);
                        if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
                            idx[k][o] = (long) yy * w + xx;
                            wt[k][o] = (float) weight;
                        }
                    }
                }
            }
        }
        NDManager m = xi.getManager();
        NDArray flat = xi.reshape(1, c, hw);
        Shape full = new Shape(1, c, hw);
        NDArray out = null;
        for (int k = 0; k < 4; k++) {
            NDArray ik = m.create(idx[k], new Shape(1, 1, hw)).broadcast(full);
            NDArray term = flat.gather(ik, 2).mul(m.create(wt[k], new Shape(1, 1, hw)));
            out = out == null ? term : out.add(term);
        }
        return out.reshape(1, c, h, w);
    }
}
