package io.advspark.attack;

import java.util.Random;

/**
 * The random draws of one batch, one independent stream per image, each seeded from (round,
 * attack, image) by the caller. Every random part draws an image's values from that image's
 * stream in a fixed order, so an image's result does not depend on its batch-mates, its
 * partition or its position: a rerun is byte-identical. Values are drawn in Java (not by
 * libtorch), which also lets parity tests export them to the reference.
 */
public final class Draws {
    private final long[] seeds;
    private final Random[] rngs;

    public Draws(long[] seeds) {
        this.seeds = seeds.clone();
        this.rngs = new Random[seeds.length];
        for (int i = 0; i < seeds.length; i++) {
            rngs[i] = new Random(seeds[i]);
        }
    }

    private Draws(long[] seeds, Random[] rngs) {
        this.seeds = seeds;
        this.rngs = rngs;
    }

    /**
     * The streams of images {@code images} (indices into this batch), continuing where they are:
     * the batch that runs on when others leave it early.
     */
    public Draws select(int[] images) {
        long[] s = new long[images.length];
        Random[] r = new Random[images.length];
        for (int i = 0; i < images.length; i++) {
            s[i] = seeds[images[i]];
            r[i] = rngs[images[i]];
        }
        return new Draws(s, r);
    }

    /** Seeds 0..n-1: for tests and notebooks that do not care about cross-run identity. */
    public static Draws sequential(int n) {
        long[] s = new long[n];
        for (int i = 0; i < n; i++) {
            s[i] = 0x9E3779B97F4A7C15L * (i + 1);
        }
        return new Draws(s);
    }

    /** Images in the batch. */
    public int images() {
        return rngs.length;
    }

    /** The stream of row {@code row} of a (possibly tiled) batch: row i*... maps to image row % N. */
    public Random rng(int row) {
        return rngs[row % rngs.length];
    }

    public long seed(int image) {
        return seeds[image];
    }

    /** {@code perRow} uniform values in [lo, hi) for each of {@code rows} rows, row-major. */
    public float[] uniform(int rows, int perRow, float lo, float hi) {
        float[] out = new float[rows * perRow];
        for (int r = 0; r < rows; r++) {
            Random g = rng(r);
            for (int j = 0; j < perRow; j++) {
                out[r * perRow + j] = lo + (hi - lo) * g.nextFloat();
            }
        }
        return out;
    }

    /** {@code perRow} standard normal values times {@code std} for each row. */
    public float[] gaussian(int rows, int perRow, float std) {
        float[] out = new float[rows * perRow];
        for (int r = 0; r < rows; r++) {
            Random g = rng(r);
            for (int j = 0; j < perRow; j++) {
                out[r * perRow + j] = (float) (g.nextGaussian() * std);
            }
        }
        return out;
    }

    /**
     * A stable 64-bit seed for (round, attack, image): FNV-1a over the UTF-8 bytes, then a
     * SplitMix64 finaliser so that similar names give unrelated streams.
     */
    public static long seedFor(String round, String attackSpec, String imageId) {
        long h = 0xcbf29ce484222325L;
        for (byte b : (round + "\u0000" + attackSpec + "\u0000" + imageId).getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        h += 0x9E3779B97F4A7C15L;
        h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L;
        h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
        return h ^ (h >>> 31);
    }
}
