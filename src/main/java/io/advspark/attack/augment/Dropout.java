package io.advspark.attack.augment;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.Draws;
import io.advspark.model.Autograd;
import io.advspark.model.Classifier;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Dropout switched on inside the surrogates, a fresh mask for every forward pass: every attack
 * step (and every copy, every VMI neighbour) sees another thinned "ghost" of each model, a
 * longitudinal ensemble at the cost of one model (Li et al., "Learning Transferable Adversarial
 * Examples via Ghost Networks", AAAI 2020, "dropout erosion"). Spec {@code dropout(p=0.006)}.
 *
 * <p>Each activation at a dropout site is zeroed with probability {@code p} and the kept ones are
 * scaled by {@code 1/(1-p)} (inverted dropout, as {@code nn.Dropout} in train mode); BatchNorm and
 * everything else stays in eval mode. Default p 0.006: the keep probability 0.994 of
 * TransferAttack's Ghost Network code for dropout after every block of Inception-v3; where the
 * sites are is up to the model (see {@code tools/ghost_model.py}: after the stem and every
 * residual block). p 0 gives the eval-mode model exactly.
 *
 * <p>Draws: for each row {@code r} of a forward pass, one {@code nextLong} from
 * {@code draws.rng(r)} (image {@code r % N}'s stream) seeds a {@link SplittableRandom} that draws
 * the row's masks site by site in C order; an element is dropped when
 * {@code (nextInt() >>> 8) * 2^-24 < p}. So an image's masks depend only on its own stream: the
 * same in any batch, partition or position, and a rerun is byte-identical. Java draws them (not
 * libtorch, whose generator is global to the process and shared by concurrent tasks), which also
 * lets the parity test hand them to the PyTorch reference.
 */
public record Dropout(double p) implements ModelAugmentation {
    public static final Entry<Dropout> DECLARATION = Entry.of(Kind.AUGMENT, "dropout", Dropout.class)
            .summary("Dropout at the surrogate's dropout sites with fresh masks at every forward (needs scripted surrogates)")
            .paper("Li et al., \"Learning Transferable Adversarial Examples via Ghost Networks\", AAAI 2020")
            .param(Param.dbl("p", 0.006, 0, 0.99,
                    "drop probability (0.006: TransferAttack's Ghost Network code)"))
            .randomised()
            .build(s -> new Dropout(s.dbl("p")));

    public Dropout {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("dropout p must be in [0, 1), got " + p);
        }
    }

    /** The value of a kept activation's factor, as float32 (what nn.Dropout multiplies by). */
    public float scale() {
        return 1f / (float) (1.0 - p);
    }

    @Override
    public float[][] masks(List<long[]> sites, int rows, Draws draws) {
        int[] sizes = new int[sites.size()];
        float[][] out = new float[sites.size()][];
        for (int k = 0; k < sizes.length; k++) {
            long n = 1;
            for (long d : sites.get(k)) {
                n *= d;
            }
            if (n * rows > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("dropout masks too large: " + rows + " x " + n);
            }
            sizes[k] = (int) n;
            out[k] = new float[(int) n * rows];
        }
        float keep = scale();
        for (int r = 0; r < rows; r++) {
            long seed = draws.rng(r).nextLong();
            if (p == 0) {
                for (int k = 0; k < sizes.length; k++) {
                    java.util.Arrays.fill(out[k], r * sizes[k], (r + 1) * sizes[k], 1f);
                }
                continue;
            }
            SplittableRandom g = new SplittableRandom(seed);
            for (int k = 0; k < sizes.length; k++) {
                float[] m = out[k];
                int base = r * sizes[k];
                for (int j = 0; j < sizes[k]; j++) {
                    m[base + j] = (g.nextInt() >>> 8) * 0x1.0p-24 < p ? 0f : keep;
                }
            }
        }
        return out;
    }

    /**
     * The model must export the dropout-site methods, its masked forward with all-ones masks must
     * equal its eval-mode forward (nothing else, e.g. BatchNorm, changes mode), and two forwards of
     * the same input with dropout on (p = 0.5, fixed draws) must differ from each other and from the
     * plain forward (the masks really act). The probe input is fixed pseudo-random pixels.
     */
    @Override
    public void checkSupport(Classifier model, NDManager manager) {
        List<long[]> sites;
        try {
            sites = model.dropoutSites();
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        if (sites == null) {
            throw new IllegalArgumentException("it has no dropout sites: its TorchScript methods are "
                    + model.methods() + ", without " + Classifier.DROPOUT_SHAPES + " and " + Classifier.FORWARD_MASKED
                    + " (a traced model, torch.jit.trace, freezes dropout in the mode it was traced in; a scripted"
                    + " model's own nn.Dropout layers cannot be switched on alone: module.train() switches BatchNorm too)");
        }
        try (NDManager m = manager.newSubManager()) {
            int h = model.card().inputHeight();
            int w = model.card().inputWidth();
            Random rnd = new Random(0);
            float[] px = new float[2 * 3 * h * w];
            for (int i = 0; i < px.length; i++) {
                px[i] = rnd.nextFloat();
            }
            NDArray x = m.create(px, new Shape(2, 3, h, w));
            float[][] out = Autograd.noGrad(() -> {
                float[] plain = model.logits(x).toFloatArray();
                float[] ones = model.logits(x, ModelAugmentation.toArrays(new Dropout(0).masks(sites, 2, Draws.sequential(2)), sites, 2, m))
                        .toFloatArray();
                Dropout half = new Dropout(0.5);
                Draws d = Draws.sequential(2);
                float[] a = model.logits(x, ModelAugmentation.toArrays(half.masks(sites, 2, d), sites, 2, m)).toFloatArray();
                float[] b = model.logits(x, ModelAugmentation.toArrays(half.masks(sites, 2, d), sites, 2, m)).toFloatArray();
                return new float[][] {plain, ones, a, b};
            });
            double scale = 0;
            for (float v : out[0]) {
                scale = Math.max(scale, Math.abs(v));
            }
            double d1 = maxDiff(out[0], out[1]);
            if (d1 > 1e-5 * Math.max(1, scale)) {
                throw new IllegalArgumentException(Classifier.FORWARD_MASKED + " with all-ones masks differs from forward by "
                        + d1 + ": something besides the masks changes (e.g. BatchNorm in train mode)");
            }
            if (java.util.Arrays.equals(out[2], out[0]) || java.util.Arrays.equals(out[2], out[3])) {
                throw new IllegalArgumentException(Classifier.FORWARD_MASKED
                        + " ignores its masks: with dropout p=0.5 two forwards of the same input gave identical logits");
            }
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }
}
