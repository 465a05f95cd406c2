package io.advspark.attack;

import io.advspark.data.RgbImage;

/**
 * Rounds an attack's float result to the 8-bit image that is written, keeping the budget exact
 * in 0..255 units: {@code q = floor(x * 255 + 0.5)} (float32, round half up), then clamped to
 * {@code [max(ceil(c - eps), 0), min(floor(c + eps), 255)]} for the clean value c. Rounding alone
 * could exceed eps by one level where eps/255 is not exactly representable; the clamp makes
 * {@code |q - c| <= eps} hold for every pixel of the written PNG.
 */
public final class Quantizer {
    private Quantizer() {}

    /**
     * @param adv NCHW floats of a batch
     * @param offset index of this image's first value in {@code adv}
     * @param clean the clean image
     * @param epsPixels budget in 0..255 units
     */
    public static RgbImage toPixels(float[] adv, int offset, RgbImage clean, double epsPixels) {
        byte[] c = clean.pixels();
        byte[] out = new byte[c.length];
        for (int i = 0; i < c.length; i++) {
            int cv = c[i] & 0xff;
            float a = adv[offset + i];
            int q = (int) Math.floor(a * 255f + 0.5f);
            int lo = Math.max((int) Math.ceil(cv - epsPixels), 0);
            int hi = Math.min((int) Math.floor(cv + epsPixels), 255);
            if (q < lo) {
                q = lo;
            } else if (q > hi) {
                q = hi;
            }
            out[i] = (byte) q;
        }
        return new RgbImage(clean.height(), clean.width(), out);
    }
}
