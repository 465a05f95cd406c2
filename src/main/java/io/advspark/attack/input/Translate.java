package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.Random;

/**
 * Random translation, zero-filled: each image is shifted by integer (dy, dx), each uniform in
 * {@code [-round(max H), round(max H)]} (resp. W), the explicit-sampling counterpart of TI (Dong
 * et al., CVPR 2019, which approximates the expectation over such shifts by a gradient
 * convolution). Draws per row: dy then dx ({@code nextInt}). Default max 0.1 of the side. Spec
 * {@code translate(max=0.1)}.
 */
public record Translate(double max) implements InputTransform {
    public static final Entry<Translate> DECLARATION = Entry.of(Kind.INPUT, "translate", Translate.class)
            .summary("Random translation")
            .paper(Entry.NO_PAPER)
            .param(Param.dbl("max", 0.1, 0, 0.5,
                    "largest shift, as a fraction of the side"))
            .randomised()
            .build(s -> new Translate(s.dbl("max")));

    @Override
    public NDArray apply(NDArray x, StepContext ctx) {
        long h = x.getShape().get(2);
        long w = x.getShape().get(3);
        int ph = (int) Math.round(max * h);
        int pw = (int) Math.round(max * w);
        if (ph == 0 && pw == 0) {
            return x;
        }
        return Rows.map(x, (r, xi) -> {
            Random g = ctx.draws().rng(r);
            int dy = g.nextInt(2 * ph + 1) - ph;
            int dx = g.nextInt(2 * pw + 1) - pw;
            NDArray p = xi.pad(new Shape(pw, pw, ph, ph), 0);
            // out[y, x] = in[y - dy, x - dx]: the content moves by (+dy, +dx).
            return p.get(new NDIndex(":, :, {}:{}, {}:{}", ph - dy, ph - dy + h, pw - dx, pw - dx + w));
        });
    }
}
