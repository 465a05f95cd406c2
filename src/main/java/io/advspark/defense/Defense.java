package io.advspark.defense;

import io.advspark.data.RgbImage;
import io.advspark.vocabulary.Catalogue;
import java.util.Random;

/**
 * An input-transformation defense: a pure function from an 8-bit image to an 8-bit image,
 * applied before the target model. Randomised defenses draw only from {@code rnd}, which the
 * caller seeds per image (so a rerun, any partition and any batch give the same result).
 */
public interface Defense extends java.io.Serializable {
    RgbImage apply(RgbImage image, Random rnd);

    /**
     * The canonical spec, e.g. {@code jpeg(quality=75)}, rendered from the class's catalogue declaration
     * (records and seeds key on it, so it never changes for the same values).
     */
    default String spec() {
        return Catalogue.render(this);
    }
}
