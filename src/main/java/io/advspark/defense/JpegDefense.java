package io.advspark.defense;

import io.advspark.data.JpegCodec;
import io.advspark.data.RgbImage;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.awt.image.BufferedImage;
import java.util.Random;

/**
 * JPEG compression (Dziugaite et al. 2016; Guo et al., ICLR 2018): the 8-bit image is encoded by
 * the JDK's {@code javax.imageio} JPEG writer with explicit quality {@code q} (IJG quality
 * scaling of the standard tables, 4:2:0 chroma subsampling, baseline) and decoded back to 8 bits.
 * The same settings as PIL's {@code save(..., quality=q)}; decoders differ slightly in chroma
 * upsampling, so a few pixels may differ by one or two levels from libjpeg's.
 */
public record JpegDefense(int quality) implements Defense {
    public static final Entry<JpegDefense> DECLARATION = Entry.of(Kind.DEFENSE, "jpeg", JpegDefense.class)
            .summary("JPEG compression of the 8-bit image (JDK codec, 4:2:0, baseline)")
            .paper("Dziugaite et al. 2016; Guo et al., \"Countering Adversarial Images using Input Transformations\", ICLR 2018")
            .param(Param.integer("quality", 75, 1, 100,
                    "JPEG quality"))
            .build(s -> new JpegDefense(s.integer("quality")));

    @Override
    public RgbImage apply(RgbImage image, Random rnd) {
        int h = image.height();
        int w = image.width();
        int plane = h * w;
        byte[] px = image.pixels();
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int p = 0; p < plane; p++) {
            int rgb = ((px[p] & 0xff) << 16) | ((px[plane + p] & 0xff) << 8) | (px[2 * plane + p] & 0xff);
            img.setRGB(p % w, p / w, rgb);
        }
        BufferedImage back = JpegCodec.roundTrip(img, quality);
        byte[] out = new byte[3 * plane];
        for (int p = 0; p < plane; p++) {
            int rgb = back.getRGB(p % w, p / w);
            out[p] = (byte) ((rgb >> 16) & 0xff);
            out[plane + p] = (byte) ((rgb >> 8) & 0xff);
            out[2 * plane + p] = (byte) (rgb & 0xff);
        }
        return new RgbImage(h, w, out);
    }
}
