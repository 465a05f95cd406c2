package io.advspark.defense;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.data.RgbImage;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DefensesTest {
    private static RgbImage noise(int h, int w, long seed) {
        byte[] px = new byte[3 * h * w];
        new Random(seed).nextBytes(px);
        return new RgbImage(h, w, px);
    }

    private static RgbImage constant(int h, int w, int v) {
        byte[] px = new byte[3 * h * w];
        java.util.Arrays.fill(px, (byte) v);
        return new RgbImage(h, w, px);
    }

    @Test
    void chainsParseToCanonicalSpecs() {
        assertEquals("jpeg(quality=75) > bits(bits=4) > model", DefenseChain.parse("jpeg(75) > bits(4) > model").spec());
        assertEquals("jpeg(quality=75) > bits(bits=4) > model", DefenseChain.parse("JPEG(quality=75)>bits(4)").spec());
        assertEquals("model", DefenseChain.parse("model").spec());
        assertEquals("model", DefenseChain.parse("none").spec());
        assertEquals("rp(ratio=1.1070) > median(size=3) > blur(sigma=1.5) > model",
                DefenseChain.parse("rp > median > blur(1.5)").spec());
    }

    @Test
    void badChainsFailNamingTheSpec() {
        for (String bad : new String[] {"jpeg(150)", "foo(3) > model", "median(4)", "bits(b=4)", "model > jpeg(75)",
                "jpeg(75) >  > model", "blur(sigma=x)"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DefenseChain.parse(bad), bad);
            assertTrue(e.getMessage().contains(bad.trim()), bad + " -> " + e.getMessage());
        }
    }

    @Test
    void bitDepth() {
        RgbImage img = new RgbImage(1, 2, new byte[] {0, (byte) 127, (byte) 128, (byte) 255, 17, 18});
        // 4 bits: round(round(v/255*15)/15*255): 0, 119 (127/255*15 = 7.47 -> 7), 136 (7.53 -> 8), 255, 17, 17
        assertArrayEquals(new byte[] {0, 119, (byte) 136, (byte) 255, 17, 17}, new BitDepth(4).apply(img, null).pixels());
        assertArrayEquals(new byte[] {0, 0, (byte) 255, (byte) 255, 0, 0}, new BitDepth(1).apply(img, null).pixels());
        assertArrayEquals(img.pixels(), new BitDepth(8).apply(img, null).pixels());
    }

    @Test
    void medianRemovesAnImpulseAndBlurKeepsConstants() {
        RgbImage img = constant(5, 5, 40);
        byte[] px = img.pixels().clone();
        px[2 * 5 + 2] = (byte) 250;
        RgbImage spike = new RgbImage(5, 5, px);
        assertArrayEquals(img.pixels(), new Median(3).apply(spike, null).pixels());
        assertArrayEquals(img.pixels(), new GaussianBlur(2).apply(img, null).pixels());
        RgbImage blurred = new GaussianBlur(1).apply(spike, null);
        int centre = blurred.pixels()[2 * 5 + 2] & 0xff;
        assertTrue(centre > 40 && centre < 250, "blur spreads the spike: " + centre);
    }

    @Test
    void jpegIsLossyButClose() {
        RgbImage img = noise(32, 32, 1);
        RgbImage j = new JpegDefense(75).apply(img, null);
        assertEquals(32, j.height());
        assertNotEquals(java.util.Arrays.toString(img.pixels()), java.util.Arrays.toString(j.pixels()));
        RgbImage flat = constant(16, 16, 100);
        RgbImage jf = new JpegDefense(75).apply(flat, null);
        for (byte b : jf.pixels()) {
            assertTrue(Math.abs((b & 0xff) - 100) <= 1, "flat grey survives: " + (b & 0xff));
        }
    }

    @Test
    void resizePadPlacesANearestNeighbourResizeInsideZeros() {
        RgbImage img = noise(10, 10, 3);
        ResizePad rp = new ResizePad(1.5);
        RgbImage out = rp.apply(img, new Random(11));
        // Replay the draws: r in [10, 15), then the offsets.
        Random r = new Random(11);
        int size = 10 + r.nextInt(5);
        int top = r.nextInt(15 - size + 1);
        int left = r.nextInt(15 - size + 1);
        assertEquals(15, out.height());
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 15; y++) {
                for (int x = 0; x < 15; x++) {
                    boolean inside = y >= top && y < top + size && x >= left && x < left + size;
                    int expect = inside
                            ? img.pixels()[(c * 10 + (y - top) * 10 / size) * 10 + (x - left) * 10 / size] : 0;
                    assertEquals(expect, out.pixels()[(c * 15 + y) * 15 + x], "c" + c + " y" + y + " x" + x);
                }
            }
        }
    }

    @Test
    void resizePadIsSeededAndSized() {
        RgbImage img = noise(299, 299, 2);
        ResizePad rp = new ResizePad(331.0 / 299.0);
        RgbImage a = rp.apply(img, new Random(5));
        RgbImage b = rp.apply(img, new Random(5));
        assertEquals(331, a.height());
        assertEquals(331, a.width());
        assertArrayEquals(a.pixels(), b.pixels());
        boolean differs = false;
        for (long s = 6; s < 10 && !differs; s++) {
            differs = !java.util.Arrays.equals(a.pixels(), rp.apply(img, new Random(s)).pixels());
        }
        assertTrue(differs, "other seeds give other draws");
    }

    @Test
    void tensorStagesFollowTheImageStagesAndKeepTheirPathAsWritten() {
        DefenseChain c = DefenseChain.parse("jpeg(75) > purify(s3a://Bucket/NRP.pt) > rs(sigma=0.25, n=100) > model");
        assertEquals("jpeg(quality=75) > purify(path=s3a://Bucket/NRP.pt) > rs(sigma=0.25,n=100) > model", c.spec());
        assertEquals(java.util.List.of("s3a://Bucket/NRP.pt"), c.purifierPaths());
        assertEquals(new RandomizedSmoothing(0.25, 100), c.smoothing().orElseThrow());
        assertTrue(c.randomised(), "rs draws noise");
        assertEquals(1, c.stages().size(), "jpeg stays an image stage");
        assertEquals("rs(sigma=0.5,n=1000) > model", DefenseChain.parse("rs").spec(), "TransferAttack's defaults");
        assertEquals("purify(path=file:/abs/x.pt) > model",
                DefenseChain.parse("purify(path=x.pt)").withResolvedPaths(p -> "file:/abs/" + p).spec());
        for (String bad : new String[] {"rs > jpeg(75)", "purify(path=a.pt) > bits(4) > model", "rs > rs(n=5)", "purify",
                "purify(path=a,b.pt)", "rs(sigma=-1)", "rs(n=0)"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DefenseChain.parse(bad), bad);
            assertTrue(e.getMessage().contains(bad.trim()), bad + " -> " + e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Defenses.parse("rs"));
        assertTrue(e.getMessage().contains("tensor"), e.getMessage());
    }
}
