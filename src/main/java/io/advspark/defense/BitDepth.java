package io.advspark.defense;

import io.advspark.data.RgbImage;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.Random;

/**
 * Bit-depth reduction (feature squeezing, Xu et al., NDSS 2018): on the [0,1] scale
 * {@code x' = round(x (2^b - 1)) / (2^b - 1)}, stored back as {@code round(255 x')}.
 * {@code bits(8)} is the identity.
 */
public record BitDepth(int bits) implements Defense {
    public static final Entry<BitDepth> DECLARATION = Entry.of(Kind.DEFENSE, "bits", BitDepth.class)
            .summary("Bit-depth reduction (feature squeezing); bits(8) is the identity")
            .paper("Xu, Evans and Qi, \"Feature Squeezing\", NDSS 2018")
            .param(Param.integer("bits", 4, 1, 8,
                    "bits per channel kept"))
            .build(s -> new BitDepth(s.integer("bits")));

    @Override
    public RgbImage apply(RgbImage image, Random rnd) {
        int levels = (1 << bits) - 1;
        byte[] lut = new byte[256];
        for (int v = 0; v < 256; v++) {
            double q = Math.round(v / 255.0 * levels) / (double) levels;
            lut[v] = (byte) Defenses.clamp8(q * 255.0);
        }
        byte[] in = image.pixels();
        byte[] out = new byte[in.length];
        for (int i = 0; i < in.length; i++) {
            out[i] = lut[in[i] & 0xff];
        }
        return new RgbImage(image.height(), image.width(), out);
    }
}
