package io.advspark.attack.init;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.Random;

/**
 * Procedural-noise start (Co et al., "Procedural Noise Adversarial Examples for Black-Box Attacks
 * on Deep Convolutional Networks", CCS 2019; official code kenny-co/procedural-advml): a greyscale
 * fractal Perlin noise passed through a sine colour map, scaled to the budget and added to every
 * channel, {@code x_0 = x + amplitude * eps * s}, then clipped to the eps-ball and [0,1] by the
 * engine.
 *
 * <p>Per image (H x W), in double precision:
 * <ol>
 *   <li>Permutation: {@code P = 0..255} shuffled by Fisher-Yates from the image's stream,
 *       {@code for i = 255..1: swap(P[i], P[rng.nextInt(i + 1)])} (256 - 1 draws, before any
 *       step's draws); indices are taken mod 256.
 *   <li>Improved Perlin noise (Perlin, "Improving Noise", SIGGRAPH 2002) in the plane z = 0:
 *       lattice cell {@code X = floor(u) mod 256, Y = floor(v) mod 256}, fractions
 *       {@code fu, fv}, fade {@code 6t^5 - 15t^4 + 10t^3}, corner hashes
 *       {@code P[P[X + i] + Y + j]} (i, j in {0, 1}), Perlin's reference gradient
 *       {@code grad(h, x, y, 0)} (h = hash &amp; 15), bilinear blend of the four corners.
 *   <li>Fractal sum at pixel (row r, column c): {@code n = sum_o 0.5^o noise(2^o r / period,
 *       2^o c / period) / sum_o 0.5^o}, o = 0..octaves-1 (persistence 0.5 and lacunarity 2, the
 *       defaults of the {@code noise} package's {@code pnoise2} the paper uses; the row is the
 *       first coordinate, as its {@code noise[x][y] = pnoise2(x / period, y / period)}).
 *   <li>Colour map: min-max normalise n over the image to [0,1] (0 where the image is flat),
 *       then {@code s = sin(sine * pi * n)} ({@code map=sine}, as the paper's Bayesian
 *       optimisation code scales it, {@code noise * max_norm}) or {@code s = sign(sin(...))}
 *       ({@code map=sign}, as its {@code perturb} helper).
 * </ol>
 * The paper's randomness is in its parameters (searched by Bayesian optimisation) on one fixed
 * permutation; ours is the per-image permutation, so every image gets its own pattern and a
 * rerun is identical.
 *
 * <p>Published defaults: period 60 px and sine frequency 36 (the official slider's defaults, at
 * 299 x 299; its optimisation searched period 20..160, sine 4..32, octaves 1..4); octaves 4 is
 * ours (the top of that range); amplitude 1 = the full budget. Spec
 * {@code perlin(period=60, octaves=4, sine=36, amplitude=1.0, map=sine)}; on small images use a
 * smaller period (a period larger than the image shows less than one lattice cell).
 */
public record PerlinInit(double period, int octaves, double sine, double amplitude, boolean signMap)
        implements Initializer {
    public static final Entry<PerlinInit> DECLARATION = Entry.of(Kind.INIT, "perlin", PerlinInit.class)
            .summary("Greyscale fractal Perlin noise, min-max normalised, through sin(sine pi n) (or its sign), times amplitude x eps on every channel")
            .paper("Co et al., \"Procedural Noise Adversarial Examples for Black-Box Attacks on Deep Convolutional Networks\", CCS 2019")
            .param(Param.dbl("period", 60, 1, 1e5,
                    "noise period in pixels (use a smaller one on small images)"))
            .param(Param.integer("octaves", 4, 1, 8,
                    "noise octaves (persistence 0.5, lacunarity 2)"))
            .param(Param.dbl("sine", 36, 0, 1000,
                    "frequency of the sine colour map"))
            .param(Param.dbl("amplitude", 1.0, 0, 1,
                    "amplitude, in units of eps"))
            .param(Param.choice("map", "sine", "colour map: sin(sine pi n), or its sign", "sine", "sign"))
            .randomised()
            .build(s -> new PerlinInit(s.dbl("period"), s.integer("octaves"), s.dbl("sine"), s.dbl("amplitude"),
                    s.choice("map").equals("sign")));

    /** The colour map as the spec names it: {@code sign} or {@code sine}. */
    public String map() {
        return signMap ? "sign" : "sine";
    }

    @Override
    public NDArray start(StepContext ctx) {
        NDArray c = ctx.clean();
        int n = (int) c.getShape().get(0);
        int ch = (int) c.getShape().get(1);
        int h = (int) c.getShape().get(2);
        int w = (int) c.getShape().get(3);
        float[] delta = new float[n * ch * h * w];
        double scale = amplitude * ctx.eps01();
        for (int i = 0; i < n; i++) {
            double[] s = pattern(ctx.draws().rng(i), h, w);
            for (int k = 0; k < ch; k++) {
                int base = (i * ch + k) * h * w;
                for (int p = 0; p < h * w; p++) {
                    delta[base + p] = (float) (scale * s[p]);
                }
            }
        }
        return c.add(c.getManager().create(delta, c.getShape()));
    }

    /** The colour-mapped pattern of one image in [-1, 1], row-major H x W; draws its permutation from {@code rng}. */
    public double[] pattern(Random rng, int h, int w) {
        int[] perm = permutation(rng);
        double[] v = new double[h * w];
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (int r = 0; r < h; r++) {
            for (int col = 0; col < w; col++) {
                double total = 0;
                double amp = 1;
                double norm = 0;
                double freq = 1 / period;
                for (int o = 0; o < octaves; o++) {
                    total += amp * noise(perm, r * freq, col * freq);
                    norm += amp;
                    amp *= 0.5;
                    freq *= 2;
                }
                double x = total / norm;
                v[r * w + col] = x;
                min = Math.min(min, x);
                max = Math.max(max, x);
            }
        }
        double range = max - min;
        for (int p = 0; p < v.length; p++) {
            double t = range > 0 ? (v[p] - min) / range : 0;
            double s = Math.sin(t * sine * Math.PI);
            v[p] = signMap ? Math.signum(s) : s;
        }
        return v;
    }

    /** 512 entries: a Fisher-Yates shuffle of 0..255, repeated. */
    static int[] permutation(Random rng) {
        int[] p = new int[256];
        for (int i = 0; i < 256; i++) {
            p[i] = i;
        }
        for (int i = 255; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        int[] out = new int[512];
        for (int i = 0; i < 512; i++) {
            out[i] = p[i & 255];
        }
        return out;
    }

    /** Improved Perlin noise at (x, y, 0), in about [-1, 1]. */
    static double noise(int[] p, double x, double y) {
        double fx = Math.floor(x);
        double fy = Math.floor(y);
        int xi = ((int) fx) & 255;
        int yi = ((int) fy) & 255;
        double xf = x - fx;
        double yf = y - fy;
        double u = fade(xf);
        double v = fade(yf);
        int a = p[xi] + yi;
        int b = p[xi + 1] + yi;
        double x1 = lerp(u, grad(p[a], xf, yf), grad(p[b], xf - 1, yf));
        double x2 = lerp(u, grad(p[a + 1], xf, yf - 1), grad(p[b + 1], xf - 1, yf - 1));
        return lerp(v, x1, x2);
    }

    private static double fade(double t) {
        return t * t * t * (t * (t * 6 - 15) + 10);
    }

    private static double lerp(double t, double a, double b) {
        return a + t * (b - a);
    }

    /** Perlin's reference {@code grad(hash, x, y, z)} at z = 0. */
    private static double grad(int hash, double x, double y) {
        int h = hash & 15;
        double u = h < 8 ? x : y;
        double v = h < 4 ? y : (h == 12 || h == 14 ? x : 0);
        return ((h & 1) == 0 ? u : -u) + ((h & 2) == 0 ? v : -v);
    }
}
