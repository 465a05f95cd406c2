package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;
import io.advspark.data.JpegCodec;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.awt.image.BufferedImage;

/**
 * JPEG compression as an input transform, with a straight-through gradient (the BPDA of Athalye,
 * Carlini and Wagner, ICML 2018; JPEG as a transform e.g. in Guo et al., "Countering Adversarial
 * Images using Input Transformations", ICLR 2018): forward is the real codec, each image rounded
 * to 8-bit RGB, encoded by the JDK's {@code javax.imageio} JPEG writer at {@code quality} (0..100,
 * JDK default chroma subsampling 4:2:0) and decoded; backward is the identity:
 * {@code out = x + (jpeg(x) - x)} with the difference a constant outside the graph. Deterministic.
 * Default quality 75. Spec {@code jpeg(quality=75)}.
 */
public record Jpeg(int quality) implements InputTransform {
    public static final Entry<Jpeg> DECLARATION = Entry.of(Kind.INPUT, "jpeg", Jpeg.class)
            .summary("Real JPEG codec forward (JDK, 4:2:0), straight-through (identity) backward")
            .paper("Athalye, Carlini and Wagner, ICML 2018 (BPDA); Guo et al., ICLR 2018")
            .param(Param.integer("quality", 75, 0, 100,
                    "JPEG quality"))
            .build(s -> new Jpeg(s.integer("quality")));

    @Override
    public NDArray apply(NDArray x, StepContext ctx) {
        long[] s = x.getShape().getShape();
        int rows = (int) s[0];
        int h = (int) s[2];
        int w = (int) s[3];
        if (s[1] != 3) {
            throw new IllegalArgumentException("jpeg needs 3 channels, got " + s[1]);
        }
        float[] v = x.toFloatArray();
        float[] d = new float[v.length];
        int per = 3 * h * w;
        for (int r = 0; r < rows; r++) {
            float[] j = roundTrip(v, r * per, h, w, quality);
            for (int i = 0; i < per; i++) {
                d[r * per + i] = j[i] - v[r * per + i];
            }
        }
        return x.add(x.getManager().create(d, x.getShape()));
    }

    /** JPEG(image) for the CHW floats at {@code off}, as CHW floats in [0,1]. */
    public static float[] roundTrip(float[] v, int off, int h, int w, int quality) {
        int plane = h * w;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = y * w + x;
                int rgb = (byte8(v[off + p]) << 16) | (byte8(v[off + plane + p]) << 8) | byte8(v[off + 2 * plane + p]);
                img.setRGB(x, y, rgb);
            }
        }
        BufferedImage back = JpegCodec.roundTrip(img, quality);
        float[] out = new float[3 * plane];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = back.getRGB(x, y);
                int p = y * w + x;
                out[p] = ((rgb >> 16) & 0xff) / 255f;
                out[plane + p] = ((rgb >> 8) & 0xff) / 255f;
                out[2 * plane + p] = (rgb & 0xff) / 255f;
            }
        }
        return out;
    }

    private static int byte8(float f) {
        return Math.max(0, Math.min(255, Math.round(f * 255f)));
    }
}
