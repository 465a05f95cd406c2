package io.advspark.data;

/**
 * An 8-bit RGB image, channel-planar (CHW) so that it maps directly onto an NCHW tensor.
 *
 * @param height rows
 * @param width columns
 * @param pixels {@code 3*height*width} bytes, planes R, G, B, each row-major; values 0..255 unsigned
 */
public record RgbImage(int height, int width, byte[] pixels) {
    public RgbImage {
        if (pixels.length != 3 * height * width) {
            throw new IllegalArgumentException(
                    "expected " + 3 * height * width + " bytes for " + height + "x" + width + ", got " + pixels.length);
        }
    }

    /** Writes {@code pixel / 255} (float32 division, as torch's {@code uint8 -> float / 255}) into dst. */
    public void toUnitFloats(float[] dst, int offset) {
        for (int i = 0; i < pixels.length; i++) {
            dst[offset + i] = (pixels[i] & 0xff) / 255f;
        }
    }
}
