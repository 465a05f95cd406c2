package io.advspark.data;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;

/**
 * Lossless 8-bit PNG decoding and encoding.
 *
 * <p>Pixels are read from the raster as stored: no colour management (an embedded ICC profile
 * would otherwise change values), no gamma. Grey and palette images are expanded to RGB; an
 * alpha channel is dropped; 16-bit images are refused rather than silently rounded.
 */
public final class Png {
    private Png() {}

    static {
        ImageIO.setUseCache(false); // no temp files per image
    }

    /** Decodes PNG bytes; the message of a failure names {@code name}. */
    public static RgbImage decode(byte[] bytes, String name) throws IOException {
        return decode(bytes, name, false);
    }

    /**
     * Decodes a dataset image: 8-bit PNG or baseline JPEG (by content, not by name). A JPEG is
     * decoded once, by Java's decoder, and that decoded image is the clean image of the round
     * (budget, norms and scores are measured against it); other decoders (libjpeg-turbo, PIL) may
     * differ from it by a level here and there.
     */
    public static RgbImage decodeInput(byte[] bytes, String name) throws IOException {
        return decode(bytes, name, true);
    }

    private static RgbImage decode(byte[] bytes, String name, boolean jpeg) throws IOException {
        BufferedImage img;
        try (ImageInputStream iis = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(iis);
            if (!readers.hasNext()) {
                throw new IOException(name + ": corrupt PNG (not a readable image, " + bytes.length + " bytes)");
            }
            ImageReader reader = readers.next();
            try {
                String format = reader.getFormatName();
                if (!"png".equalsIgnoreCase(format) && !(jpeg && "jpeg".equalsIgnoreCase(format))) {
                    throw new IOException(name + ": is " + format + ", expected PNG" + (jpeg ? " or JPEG" : ""));
                }
                reader.setInput(iis, true, true);
                img = reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(name)) {
                throw e;
            }
            throw new IOException(name + ": corrupt PNG: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IOException(name + ": corrupt PNG: " + e, e);
        }
        return toRgb(img, name);
    }

    private static RgbImage toRgb(BufferedImage img, String name) throws IOException {
        int h = img.getHeight();
        int w = img.getWidth();
        int plane = h * w;
        byte[] out = new byte[3 * plane];
        ColorModel cm = img.getColorModel();
        Raster raster = img.getRaster();
        int bits = cm.getComponentSize(0);
        if (cm instanceof IndexColorModel icm) {
            // Palette entries are exact RGB values; getRGB on an index model does no conversion.
            int[] idx = raster.getSamples(0, 0, w, h, 0, (int[]) null);
            for (int i = 0; i < plane; i++) {
                int rgb = icm.getRGB(idx[i]);
                out[i] = (byte) (rgb >> 16);
                out[plane + i] = (byte) (rgb >> 8);
                out[2 * plane + i] = (byte) rgb;
            }
            return new RgbImage(h, w, out);
        }
        if (bits != 8) {
            throw new IOException(name + ": " + bits + "-bit PNG; only 8-bit images are supported");
        }
        int bands = raster.getNumBands();
        if (bands == 1 || bands == 2) {
            int[] g = raster.getSamples(0, 0, w, h, 0, (int[]) null);
            for (int i = 0; i < plane; i++) {
                byte v = (byte) g[i];
                out[i] = v;
                out[plane + i] = v;
                out[2 * plane + i] = v;
            }
            return new RgbImage(h, w, out);
        }
        if (bands != 3 && bands != 4) {
            throw new IOException(name + ": unsupported PNG with " + bands + " bands");
        }
        if (img.getType() == BufferedImage.TYPE_3BYTE_BGR
                && raster.getDataBuffer() instanceof DataBufferByte dbb
                && dbb.getNumBanks() == 1
                && raster.getParent() == null) {
            byte[] bgr = dbb.getData();
            for (int i = 0, p = 0; i < plane; i++, p += 3) {
                out[i] = bgr[p + 2];
                out[plane + i] = bgr[p + 1];
                out[2 * plane + i] = bgr[p];
            }
            return new RgbImage(h, w, out);
        }
        for (int c = 0; c < 3; c++) {
            int[] s = raster.getSamples(0, 0, w, h, c, (int[]) null);
            for (int i = 0; i < plane; i++) {
                out[c * plane + i] = (byte) s[i];
            }
        }
        return new RgbImage(h, w, out);
    }

    /** Encodes an 8-bit RGB PNG (lossless). */
    public static byte[] encode(RgbImage image) throws IOException {
        int h = image.height();
        int w = image.width();
        int plane = h * w;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        byte[] bgr = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        byte[] px = image.pixels();
        for (int i = 0, p = 0; i < plane; i++, p += 3) {
            bgr[p] = px[2 * plane + i];
            bgr[p + 1] = px[plane + i];
            bgr[p + 2] = px[i];
        }
        ByteArrayOutputStream bos = new ByteArrayOutputStream(plane * 3 / 2 + 1024);
        ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
        try (ImageOutputStream ios = ImageIO.createImageOutputStream(bos)) {
            writer.setOutput(ios);
            ImageWriteParam param = writer.getDefaultWriteParam();
            if (param.canWriteCompressed()) {
                // ImageIO maps quality q to deflate level about 9*(1-q): 0.75 gives a fast level;
                // the default (9) costs several times the encode time for a few percent of size.
                param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                param.setCompressionQuality(0.75f);
            }
            writer.write(null, new javax.imageio.IIOImage(img, null, null), param);
        } finally {
            writer.dispose();
        }
        return bos.toByteArray();
    }
}
