package io.advspark.defense;

import io.advspark.data.RgbImage;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.Random;

/**
 * Gaussian blur: separable kernel of standard deviation {@code sigma} pixels, radius
 * {@code ceil(3 sigma)}, normalised to sum 1, borders by edge replication, rounded to 8 bits.
 */
public record GaussianBlur(double sigma) implements Defense {
    public static final Entry<GaussianBlur> DECLARATION = Entry.of(Kind.DEFENSE, "blur", GaussianBlur.class)
            .summary("Separable Gaussian blur, radius ceil(3 sigma), edge replication")
            .paper(Entry.NO_PAPER)
            .param(Param.dbl("sigma", 1.0, 0.01, 50,
                    "standard deviation in pixels"))
            .build(s -> new GaussianBlur(s.dbl("sigma")));

    @Override
    public RgbImage apply(RgbImage image, Random rnd) {
        int h = image.height();
        int w = image.width();
        int r = (int) Math.ceil(3 * sigma);
        double[] k = new double[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++) {
            k[i + r] = Math.exp(-(i * (double) i) / (2 * sigma * sigma));
            sum += k[i + r];
        }
        for (int i = 0; i < k.length; i++) {
            k[i] /= sum;
        }
        byte[] in = image.pixels();
        byte[] out = new byte[in.length];
        double[] tmp = new double[h * w];
        for (int c = 0; c < 3; c++) {
            int base = c * h * w;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double s = 0;
                    for (int i = -r; i <= r; i++) {
                        int xx = Math.max(0, Math.min(w - 1, x + i));
                        s += k[i + r] * (in[base + y * w + xx] & 0xff);
                    }
                    tmp[y * w + x] = s;
                }
            }
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double s = 0;
                    for (int i = -r; i <= r; i++) {
                        int yy = Math.max(0, Math.min(h - 1, y + i));
                        s += k[i + r] * tmp[yy * w + x];
                    }
                    out[base + y * w + x] = (byte) Defenses.clamp8(s);
                }
            }
        }
        return new RgbImage(h, w, out);
    }
}
