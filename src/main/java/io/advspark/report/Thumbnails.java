package io.advspark.report;

import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;

/** The grid's pictures: downscaled, the perturbation made visible, embedded as {@code data:} URIs. */
public final class Thumbnails {
    private Thumbnails() {}

    /** The longest side of an embedded picture, in pixels: bounds the page's size. */
    public static final int MAX_SIDE = 160;

    /** The amplified perturbation {@code 127.5 + amp * (adv - clean)}, clamped to 0..255 (grey = unchanged). */
    public static RgbImage perturbation(RgbImage clean, RgbImage adv, double amp) {
        if (clean.height() != adv.height() || clean.width() != adv.width()) {
            throw new IllegalArgumentException("clean " + clean.height() + "x" + clean.width() + " vs adversarial "
                    + adv.height() + "x" + adv.width());
        }
        byte[] out = new byte[adv.pixels().length];
        for (int i = 0; i < out.length; i++) {
            double v = 127.5 + amp * ((adv.pixels()[i] & 0xff) - (clean.pixels()[i] & 0xff));
            out[i] = (byte) Math.max(0, Math.min(255, Math.round(v)));
        }
        return new RgbImage(adv.height(), adv.width(), out);
    }

    /** {@code image} with its longest side at most {@code max}: each output pixel the mean of its source box. */
    public static RgbImage downscale(RgbImage image, int max) {
        int h = image.height();
        int w = image.width();
        if (Math.max(h, w) <= max) {
            return image;
        }
        double s = (double) max / Math.max(h, w);
        int oh = Math.max(1, (int) Math.round(h * s));
        int ow = Math.max(1, (int) Math.round(w * s));
        byte[] out = new byte[3 * oh * ow];
        byte[] in = image.pixels();
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < oh; y++) {
                int y0 = (int) ((long) y * h / oh);
                int y1 = Math.max(y0 + 1, (int) ((long) (y + 1) * h / oh));
                for (int x = 0; x < ow; x++) {
                    int x0 = (int) ((long) x * w / ow);
                    int x1 = Math.max(x0 + 1, (int) ((long) (x + 1) * w / ow));
                    long sum = 0;
                    for (int yy = y0; yy < y1; yy++) {
                        int row = c * h * w + yy * w;
                        for (int xx = x0; xx < x1; xx++) {
                            sum += in[row + xx] & 0xff;
                        }
                    }
                    out[c * oh * ow + y * ow + x] = (byte) Math.round((double) sum / ((y1 - y0) * (x1 - x0)));
                }
            }
        }
        return new RgbImage(oh, ow, out);
    }

    /** The longest side of a picture as shown, in CSS pixels (a bigger embedded one stays sharp on a high-density screen). */
    public static final int SHOWN_SIDE = 96;

    /** An {@code <img>} of {@code image} (downscaled to {@link #MAX_SIDE}), shown {@link #SHOWN_SIDE} px on its longest side. */
    public static String img(RgbImage image, String alt) {
        RgbImage small = downscale(image, MAX_SIDE);
        double shown = (double) SHOWN_SIDE / Math.max(small.width(), small.height());
        try {
            return "<img src=\"data:image/png;base64," + Base64.getEncoder().encodeToString(Png.encode(small)) + "\" width=\""
                    + Math.round(small.width() * shown) + "\" height=\"" + Math.round(small.height() * shown) + "\" alt=\""
                    + Svg.esc(alt) + "\">";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
