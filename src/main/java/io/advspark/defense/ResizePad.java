package io.advspark.defense;

import io.advspark.data.RgbImage;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.Random;

/**
 * Random resizing and padding (Xie et al., "Mitigating adversarial effects through
 * randomization", ICLR 2018): the H x W image is resized (nearest neighbour, as the paper's
 * code) to {@code r x round(r W / H)} with r uniform in [H, round(ratio H)), then zero-padded to
 * {@code round(ratio H) x round(ratio W)} at a uniform random offset. The paper's 299 -> [299, 331)
 * -> 331 is the default ratio 331/299. The target model's card resizes the result to its own
 * input size. One draw per image from the caller's stream (the same for its clean and
 * adversarial versions).
 */
public record ResizePad(double ratio) implements Defense {
    public static final Entry<ResizePad> DECLARATION = Entry.of(Kind.DEFENSE, "rp", ResizePad.class)
            .summary("Random resize (nearest neighbour) and zero padding at a random offset, one draw per image")
            .paper("Xie et al., \"Mitigating Adversarial Effects Through Randomization\", ICLR 2018")
            .param(Param.dbl("ratio", 331.0 / 299.0, 1.0, 4.0,
                    "padded side as a multiple of the image side (the paper: 331/299)")
                    .style(Param.Style.FIXED4))
            .randomised()
            .build(s -> new ResizePad(s.dbl("ratio")));

    @Override
    public RgbImage apply(RgbImage image, Random rnd) {
        int h = image.height();
        int w = image.width();
        int outH = (int) Math.round(ratio * h);
        int outW = (int) Math.round(ratio * w);
        int rh = outH > h ? h + rnd.nextInt(outH - h) : h;
        int rw = Math.min(outW, (int) Math.round((double) rh * w / h));
        int top = outH > rh ? rnd.nextInt(outH - rh + 1) : 0;
        int left = outW > rw ? rnd.nextInt(outW - rw + 1) : 0;
        byte[] in = image.pixels();
        byte[] out = new byte[3 * outH * outW];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < rh; y++) {
                int sy = Math.min(h - 1, (int) Math.floor((double) y * h / rh));
                for (int x = 0; x < rw; x++) {
                    int sx = Math.min(w - 1, (int) Math.floor((double) x * w / rw));
                    out[(c * outH + top + y) * outW + left + x] = in[(c * h + sy) * w + sx];
                }
            }
        }
        return new RgbImage(outH, outW, out);
    }
}
