package io.advspark.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * JPEG compression and decompression of an 8-bit RGB image in memory, with the JDK's
 * {@code javax.imageio} codec at an explicit quality (IJG quality scaling of the standard tables,
 * 4:2:0 chroma subsampling, baseline): the same settings as PIL's {@code save(..., quality=q)}.
 * Shared by the JPEG input transform of the attack and the JPEG defense of evaluation.
 */
public final class JpegCodec {
    private JpegCodec() {}

    /** {@code decode(encode(img, quality))}, as TYPE_INT_RGB. */
    public static BufferedImage roundTrip(BufferedImage img, int quality) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
            // In-memory streams: ImageIO's default file cache needs a writable java.io.tmpdir.
            try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
                writer.setOutput(out);
                ImageWriteParam param = writer.getDefaultWriteParam();
                param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                param.setCompressionQuality(quality / 100f);
                writer.write(null, new IIOImage(img, null, null), param);
            } finally {
                writer.dispose();
            }
            return ImageIO.read(new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        } catch (IOException e) {
            throw new UncheckedIOException("jpeg(quality=" + quality + ") round trip failed", e);
        }
    }
}
