package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.Random;

/**
 * Admix (Wang, He, Lin and Hopcroft, "Admix: Enhancing the Transferability of Adversarial
 * Attacks", ICCV 2021): each row is mixed with {@code mixes} other images,
 * {@code x + strength * x'}, and each mix is taken at the SI scales {@code 1/2^i},
 * i = 0..scales-1 (spec parameter {@code copies}), giving {@code scales * mixes} copies. Copy {@code i * mixes + j} (scale i,
 * mix j) of row r is at row {@code (i * mixes + j) * rows + r}, TransferAttack's layout
 * ({@code cat([cat([x + s x[perm_j] for j]) / 2**i for i])}).
 *
 * <p>The partners x' are the batch's <b>clean</b> images ({@code ctx.clean()}, constants: no
 * gradient flows into them), drawn per row from {@code ctx.draws().rng(r)}, one
 * {@code nextInt} per mix in order j = 0..mixes-1, uniformly among the other images of the
 * batch (itself only when the batch holds one image). TransferAttack instead permutes the current
 * adversarial batch and may pick the image itself. <b>This is the one part whose result depends
 * on the batch-mates</b>: the same image in another batch (another partition, another batch size)
 * mixes with other images, so reruns are identical only with identical batches.
 *
 * <p>Published defaults: strength 0.2, 3 mixed images, 5 scale copies. Spec
 * {@code admix(strength=0.2, mixes=3, copies=5)}.
 */
public record Admix(double strength, int mixes, int scales) implements InputTransform {
    public static final Entry<Admix> DECLARATION = Entry.of(Kind.INPUT, "admix", Admix.class)
            .summary("x + strength x' for partners x' drawn from the batch's clean images, each with SI scales (depends on batch-mates)")
            .paper("Wang et al., \"Admix: Enhancing the Transferability of Adversarial Attacks\", ICCV 2021")
            .param(Param.dbl("strength", 0.2, 0, 10,
                    "weight of the mixed-in image"))
            .param(Param.integer("mixes", 3, 1, 32,
                    "partners per image"))
            .param(Param.integer("copies", 5, 1, 32,
                    "SI scale copies of each mix")
                    .from("scales"))
            .randomised()
            .build(s -> new Admix(s.dbl("strength"), s.integer("mixes"), s.integer("copies")));

    /** The partner image (0..n-1) of each (row, mix): {@code out[r][j]}. */
    public int[][] partners(StepContext ctx, int rows, int n) {
        int[][] out = new int[rows][mixes];
        for (int r = 0; r < rows; r++) {
            Random g = ctx.draws().rng(r);
            int self = r % n;
            for (int j = 0; j < mixes; j++) {
                if (n == 1) {
                    out[r][j] = 0;
                } else {
                    int k = g.nextInt(n - 1);
                    out[r][j] = k >= self ? k + 1 : k;
                }
            }
        }
        return out;
    }

    @Override
    public NDArray apply(NDArray x, StepContext ctx) {
        int rows = (int) x.getShape().get(0);
        NDArray clean = ctx.clean();
        return apply(x, clean, partners(ctx, rows, (int) clean.getShape().get(0)));
    }

    /** Admix with the given partners; differentiable in {@code x}. */
    public NDArray apply(NDArray x, NDArray clean, int[][] partners) {
        int rows = (int) x.getShape().get(0);
        NDList mixed = new NDList(mixes);
        for (int j = 0; j < mixes; j++) {
            NDList others = new NDList(rows);
            for (int r = 0; r < rows; r++) {
                int k = partners[r][j];
                others.add(clean.get(x.getManager(), new NDIndex("{}:{}", k, k + 1)));
            }
            NDArray o = Rows.concat(others).stopGradient();
            mixed.add(x.add(o.mul((float) strength)));
        }
        // The SI scales of each mix: copy (i, j) at row (i * mixes + j) * rows + r.
        return ScaleInvariant.scaled(Rows.concat(mixed), scales);
    }

    /**
     * Row-sized arrays per copy that its graph holds until the backward, the copy included (the
     * memory estimate's figure): from the peak that {@code jobs/bench --parts} measured, 2960 MiB
     * for 15 copies of ten 299 x 299 images, less the surrogates' activations, the inputs and the
     * step's fixed part (docs/memory.md).
     */
    @Override
    public double graphRowsPerOutputRow() {
        return 6;
    }

    @Override
    public int copies() {
        return scales * mixes;
    }
}
