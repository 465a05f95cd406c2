package io.advspark.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.FileNotFoundException;
import org.junit.jupiter.api.Test;

/** The Tianchi layout's lookup, on the in-memory store. */
class DatasetLayoutTest {
    private static final String DATA = "mem://data/dev";
    private final DatasetLayout tianchi = DatasetLayout.forName("tianchi");

    @Test
    void imagesAreLookedForUnderImagesThenBesideTheManifest() throws Exception {
        InMemoryStorage store = new InMemoryStorage();
        assertEquals("mem://data/dev/dev.csv", tianchi.manifestUri(DATA, "dev.csv"));
        assertEquals("mem://data/dev/images/a.png", tianchi.imageUri(DATA + "/", "a.png"));

        store.writeAtomically(DATA + "/images/a.png", new byte[] {1});
        store.writeAtomically(DATA + "/a.png", new byte[] {2});
        store.writeAtomically(DATA + "/b.png", new byte[] {3});
        DatasetLayout.Image a = tianchi.read(store, DATA, "a.png");
        assertEquals(DATA + "/images/a.png", a.uri());
        assertArrayEquals(new byte[] {1}, a.bytes());
        DatasetLayout.Image b = tianchi.read(store, DATA, "b.png");
        assertEquals(DATA + "/b.png", b.uri(), "the flat layout");
        assertArrayEquals(new byte[] {3}, b.bytes());
    }

    @Test
    void aMissingImageNamesWhereItWasLookedForFirst() {
        InMemoryStorage store = new InMemoryStorage();
        DatasetLayout.NotFound e = assertThrows(DatasetLayout.NotFound.class, () -> tianchi.read(store, DATA, "c.png"));
        assertEquals(DATA + "/images/c.png", e.uri());
        assertEquals(DATA + "/images/c.png: file not found", e.getMessage());
        assertThrows(FileNotFoundException.class, () -> tianchi.read(store, DATA, "c.png"));
    }

    @Test
    void anUnknownLayoutNamesTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DatasetLayout.forName("imagenet"));
        assertEquals("unknown layout 'imagenet' (supported: tianchi, image-folder)", e.getMessage());
        assertEquals(tianchi, DatasetLayout.forName("tianchi"));
    }
}
