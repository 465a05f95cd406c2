package io.advspark.score;

import io.advspark.data.RgbImage;

/**
 * Norms of the written perturbation in 0..255 units, computed on the 8-bit images exactly as
 * they are stored (so they describe the PNG, not a float tensor).
 *
 * @param linf max |adv - clean|
 * @param l2 sqrt(sum (adv - clean)^2) over all pixels and channels
 */
public record Perturbation(int linf, double l2) {
    public static Perturbation between(RgbImage clean, RgbImage adv) {
        byte[] a = clean.pixels();
        byte[] b = adv.pixels();
        if (a.length != b.length) {
            throw new IllegalArgumentException("images differ in size");
        }
        int linf = 0;
        long sq = 0;
        for (int i = 0; i < a.length; i++) {
            int d = (b[i] & 0xff) - (a[i] & 0xff);
            int ad = Math.abs(d);
            if (ad > linf) {
                linf = ad;
            }
            sq += (long) d * d;
        }
        return new Perturbation(linf, Math.sqrt(sq));
    }

    /**
     * Peak signal-to-noise ratio in dB of {@code adv} against {@code clean}:
     * {@code 10 log10(255^2 / MSE)}, the MSE over all pixels and channels; +infinity for identical
     * images.
     */
    public static double psnr(RgbImage clean, RgbImage adv) {
        byte[] a = clean.pixels();
        byte[] b = adv.pixels();
        if (a.length != b.length) {
            throw new IllegalArgumentException("images differ in size");
        }
        long sq = 0;
        for (int i = 0; i < a.length; i++) {
            int d = (b[i] & 0xff) - (a[i] & 0xff);
            sq += (long) d * d;
        }
        if (sq == 0) {
            return Double.POSITIVE_INFINITY;
        }
        return 10 * Math.log10(255.0 * 255.0 * a.length / sq);
    }
}
