package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.StepContext;
import io.advspark.model.BilinearResize;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.Random;

/**
 * DI, diverse inputs (Xie, Zhang, Zhou, Bai, Wang, Ren and Yuille, "Improving Transferability of
 * Adversarial Examples with Input Diversity", CVPR 2019). With probability {@code p}, an H x W
 * image is resized (bilinear, half-pixel, no antialiasing) to {@code rnd x rnd},
 * {@code rnd} uniform in {@code [H, S)} with {@code S = floor(H * resize)}, and zero-padded at a
 * random position to {@code S x S} (top and left uniform in {@code [0, S - rnd)}, as the
 * official code's {@code random_uniform(0, h_rem)}), then resized back to {@code H x W}, as
 * TransferAttack's DIM does, so every image of the batch keeps one shape.
 *
 * <p>Images not transformed pass through unchanged (TransferAttack: {@code padded if rand < p
 * else x}). The official TF code instead feeds the 330 x 330 padded image to shape-agnostic
 * Inception nets; our surrogates have fixed input sizes (their cards resize anyway), so the back
 * resize is the portable choice, and an untouched image then needs no resize at all.
 *
 * <p>Per image (row r of a possibly tiled batch), from {@code ctx.draws().rng(r)}, always in
 * this order and whether or not the image is transformed: {@code rnd}, top, left (each
 * {@code nextInt}), then the coin ({@code nextFloat() < p}). So an image's result depends only on
 * its own stream.
 *
 * <p>Published defaults: p 0.5, resize 1.1 (DI paper, TransferAttack DIM: 299 -> [299, 330),
 * pad to 330); TI-DIM's official code uses p 0.4. Spec {@code di(p=0.5, resize=1.1)}.
 */
public record DiverseInput(double p, double resize) implements InputTransform {
    public static final Entry<DiverseInput> DECLARATION = Entry.of(Kind.INPUT, "di", DiverseInput.class)
            .summary("Diverse inputs: with probability p resize to a random size below resize x H, zero-pad at a random offset, resize back")
            .paper("Xie et al., \"Improving Transferability of Adversarial Examples with Input Diversity\", CVPR 2019")
            .param(Param.dbl("p", 0.5, 0, 1,
                    "probability of transforming an image at each step"))
            .param(Param.dbl("resize", 1.1, 1, 4,
                    "padded side as a multiple of the image side"))
            .randomised()
            .build(s -> new DiverseInput(s.dbl("p"), s.dbl("resize")));

    /** The draws of one row: target size, padding offsets, and whether it is transformed. */
    public record Plan(int rnd, int top, int left, boolean on) {}

    /** Draws the plans of {@code rows} rows of {@code h}-high images in the documented order. */
    public Plan[] plan(StepContext ctx, int rows, int h) {
        Plan[] out = new Plan[rows];
        for (int r = 0; r < rows; r++) {
            out[r] = draw(ctx.draws().rng(r), h);
        }
        return out;
    }

    /**
     * One row's plan from the stream {@code g}, in the documented order ({@code rnd}, top, left,
     * the coin); for parts that apply DI to single images inside their own draw order (OPS).
     */
    public Plan draw(Random g, int h) {
        int s = padded(h);
        int rnd = s > h ? h + g.nextInt(s - h) : h;
        int rem = s - rnd;
        int top = rem > 0 ? g.nextInt(rem) : 0;
        int left = rem > 0 ? g.nextInt(rem) : 0;
        boolean on = g.nextFloat() < p && s > h;
        return new Plan(rnd, top, left, on);
    }

    /** {@code floor(h * resize)}, the padded side. */
    public int padded(int h) {
        return (int) Math.floor(h * resize);
    }

    @Override
    public NDArray apply(NDArray x, StepContext ctx) {
        Shape s = x.getShape();
        return apply(x, plan(ctx, (int) s.get(0), (int) s.get(2)));
    }

    /** DI with the given plans (one per row); differentiable. */
    public NDArray apply(NDArray x, Plan[] plans) {
        Shape s = x.getShape();
        int rows = (int) s.get(0);
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        int side = padded(h);
        int sideW = (int) Math.floor(w * resize);
        NDList parts = new NDList(rows);
        boolean any = false;
        for (int r = 0; r < rows; r++) {
            NDArray xi = x.get(new NDIndex("{}:{}", r, r + 1));
            Plan pl = plans[r];
            if (pl.on()) {
                any = true;
                // Non-square images: the same growth on both axes, the left offset clamped.
                int rndW = w + (pl.rnd() - h);
                int left = Math.max(0, Math.min(pl.left(), sideW - rndW));
                try (BilinearResize up = new BilinearResize(x.getManager(), h, w, pl.rnd(), rndW)) {
                    NDArray t = up.apply(xi);
                    // pad takes (left, right, top, bottom) for the last two axes, innermost first.
                    NDArray padded = t.pad(new Shape(left, Math.max(0, sideW - rndW - left), pl.top(), side - pl.rnd() - pl.top()), 0);
                    // The enlarged canvases (up to resize^2 the image) freed at once: the backward of
                    // resize and pad needs only their shapes.
                    t.close();
                    try (BilinearResize down = new BilinearResize(x.getManager(), side, sideW, h, w)) {
                        xi = down.apply(padded);
                    }
                    padded.close();
                }
            }
            parts.add(xi);
        }
        return any ? Rows.concat(parts) : x;
    }
}
