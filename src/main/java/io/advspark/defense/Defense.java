package io.advspark.defense;

import io.advspark.data.RgbImage;
import java.util.Random;

/**
 * An input-transformation defense: a pure function from an 8-bit image to an 8-bit image,
 * applied before the target model. Randomised defenses draw only from {@code rnd}, which the
 * caller seeds per image (so a rerun, any partition and any batch give the same result).
 */
public interface Defense extends java.io.Serializable {
    RgbImage apply(RgbImage image, Random rnd);

    /** Canonical spec with every parameter, e.g. {@code jpeg(quality=75)}. */
    String spec();
}
