package io.advspark.defense;

import io.advspark.data.RgbImage;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.Arrays;
import java.util.Random;

/**
 * Median filter (spatial smoothing, Xu et al., NDSS 2018): each channel separately, a
 * {@code size x size} window, borders by edge replication.
 */
public record Median(int size) implements Defense {
    public static final Entry<Median> DECLARATION = Entry.of(Kind.DEFENSE, "median", Median.class)
            .summary("Median filter per channel (spatial smoothing), edge replication")
            .paper("Xu, Evans and Qi, \"Feature Squeezing\", NDSS 2018")
            .param(Param.integer("size", 3, 1, 31,
                    "window side in pixels, odd"))
            .check(s -> s.integer("size") % 2 == 1, s -> "median size must be odd, got " + s.integer("size"))
            .build(s -> new Median(s.integer("size")));

    @Override
    public RgbImage apply(RgbImage image, Random rnd) {
        int h = image.height();
        int w = image.width();
        int r = size / 2;
        byte[] in = image.pixels();
        byte[] out = new byte[in.length];
        int[] win = new int[size * size];
        for (int c = 0; c < 3; c++) {
            int base = c * h * w;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int n = 0;
                    for (int dy = -r; dy <= r; dy++) {
                        int yy = Math.max(0, Math.min(h - 1, y + dy));
                        for (int dx = -r; dx <= r; dx++) {
                            int xx = Math.max(0, Math.min(w - 1, x + dx));
                            win[n++] = in[base + yy * w + xx] & 0xff;
                        }
                    }
                    Arrays.sort(win, 0, n);
                    out[base + y * w + x] = (byte) win[n / 2];
                }
            }
        }
        return new RgbImage(h, w, out);
    }
}
