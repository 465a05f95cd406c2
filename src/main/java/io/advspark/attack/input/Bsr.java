package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.Random;

/**
 * BSR, block shuffle and rotation (Wang, He, Wang and Wang, "Boosting Adversarial
 * Transferability by Block Shuffle and Rotation", CVPR 2024): each copy of an image is cut into an
 * n x n grid of blocks, the rows of blocks and the columns of blocks are shuffled, and every block
 * is rotated about its own centre by its own random angle; the loss is averaged over
 * {@code copies} such images. Copy j of row r is at row {@code j * rows + r} (TransferAttack's
 * {@code cat([shuffle(x) for _ in range(num_scale)])}).
 *
 * <p>Definition, per row and copy. The grid: the H rows of pixels are cut into n strips of
 * random heights {@code l_i = rint(u_i / sum(u) * H)}, {@code u_i = 1 + U[0,1)} (round half to
 * even), the first largest strip taking {@code H - sum(l)} (TransferAttack's {@code get_length}
 * with {@code np.random.uniform(2, size=n)}, values in [1, 2)); likewise the W columns. The
 * shuffle: output block (a, b) is input block (rowPerm[a], colPerm[b]), the output strips stacked
 * in that order (the official code's {@code split} / permute / {@code concat} on both axes, which
 * is the shuffle that keeps blocks of unequal sizes tiling the image). The rotation: output block
 * (a, b) is its input block rotated by {@code (2 U[0,1) - 1) * degrees} about the block's centre,
 * bilinear, zero where the rotated block does not reach ({@link Taps#rotate}, as {@link Rotate}
 * rotates a whole image). Strips of height or width 0 (images smaller than about n^2 / 2 pixels
 * a side) are empty blocks.
 *
 * <p>Draws, per row r (image r mod N) in row order, from {@code ctx.draws().rng(r)}, and per row
 * for copy j = 0..copies-1 in order: the n strip weights of the rows ({@code nextFloat} each),
 * the n of the columns, the row permutation and the column permutation (each a Fisher-Yates
 * shuffle of 0..n-1: for i = n-1 down to 1, {@code j = nextInt(i + 1)}, swap i and j), then the
 * n^2 angles of the output blocks in row-major order ({@code nextFloat} each). So an image's
 * result depends only on its own stream.
 *
 * <p>Differentiable: the shuffle is an index permutation and the rotation bilinear weights, the
 * whole copy one gather map per tap (four gathers per copy), no straight-through part.
 *
 * <p>Versus the published code: the official TF code ({@code mi_bsr.py}) rotates each block by
 * a per-image angle drawn from a normal of std 0.2 rad truncated at 2 std (about +-23 degrees),
 * filling with 0 on its [-1, 1] scale (mid-grey), and draws each copy's grid and permutations with
 * numpy while the TF graph is built, so they are fixed for the whole run, shared by every image,
 * batch and step; TransferAttack's torch port draws uniform angles in +-24 degrees but rotates
 * each strip of the first split, not each block, one angle for the whole batch. Here every image draws its own
 * grid, permutations and uniform angles, the paper's "rotate each block", and the fill is 0
 * (black), as TransferAttack's.
 *
 * <p>Published defaults: a 2 x 2 grid, angles up to 24 degrees, 20 copies (the paper's setting;
 * {@code num_block=2}, {@code num_copies=20} in the official code). Spec
 * {@code bsr(blocks=2, degrees=24, copies=20)}.
 */
public record Bsr(int blocks, double degrees, int copies) implements InputTransform {
    public static final Entry<Bsr> DECLARATION = Entry.of(Kind.INPUT, "bsr", Bsr.class)
            .summary("Block shuffle and rotation: an n x n grid of random-size blocks, rows and columns of blocks shuffled, each block rotated by its own angle; copies in one forward")
            .paper("Wang et al., \"Boosting Adversarial Transferability by Block Shuffle and Rotation\", CVPR 2024")
            .param(Param.integer("blocks", 2, 1, 8,
                    "blocks per side (an n x n grid)"))
            .param(Param.dbl("degrees", 24, 0, 180,
                    "largest rotation of a block in degrees"))
            .param(Param.integer("copies", 20, 1, 64,
                    "transformed copies per step"))
            .randomised()
            .build(s -> new Bsr(s.integer("blocks"), s.dbl("degrees"), s.integer("copies")));

    /**
     * The draws of one copy of one row: strip heights and widths (input order), the permutations
     * (output strip a is input strip perm[a]) and the angles of the output blocks in radians,
     * row-major.
     */
    public record Plan(int[] heights, int[] widths, int[] rowPerm, int[] colPerm, double[] radians) {}

    /** Draws the plans of {@code rows} rows of H x W images in the documented order: {@code out[r][j]}. */
    public Plan[][] plan(StepContext ctx, int rows, int h, int w) {
        Plan[][] out = new Plan[rows][copies];
        for (int r = 0; r < rows; r++) {
            Random g = ctx.draws().rng(r);
            for (int j = 0; j < copies; j++) {
                int[] hs = lengths(g, blocks, h);
                int[] ws = lengths(g, blocks, w);
                int[] rp = permutation(g, blocks);
                int[] cp = permutation(g, blocks);
                double[] rad = new double[blocks * blocks];
                for (int b = 0; b < rad.length; b++) {
                    rad[b] = Math.toRadians((2 * g.nextFloat() - 1) * degrees);
                }
                out[r][j] = new Plan(hs, ws, rp, cp, rad);
            }
        }
        return out;
    }

    /** n strip lengths summing to {@code len}: TransferAttack's {@code get_length} on weights 1 + U[0,1). */
    static int[] lengths(Random g, int n, int len) {
        double[] u = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            u[i] = 1.0 + g.nextFloat();
            sum += u[i];
        }
        int[] l = new int[n];
        int total = 0;
        int max = 0;
        for (int i = 0; i < n; i++) {
            l[i] = (int) Math.rint(u[i] / sum * len);
            total += l[i];
            if (l[i] > l[max]) {
                max = i;
            }
        }
        l[max] += len - total;
        if (l[max] < 0) {
            throw new IllegalArgumentException("bsr: " + len + " pixels cannot be cut into " + n + " strips");
        }
        return l;
    }

    /** A Fisher-Yates shuffle of 0..n-1 (for i = n-1 down to 1: swap i with nextInt(i + 1)). */
    static int[] permutation(Random g, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = g.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    @Override
    public NDArray apply(NDArray x, StepContext ctx) {
        Shape s = x.getShape();
        return apply(x, plan(ctx, (int) s.get(0), (int) s.get(2), (int) s.get(3)));
    }

    /** BSR with the given plans ({@code plans[r][j]}); differentiable. */
    public NDArray apply(NDArray x, Plan[][] plans) {
        Shape s = x.getShape();
        int rows = (int) s.get(0);
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        NDList parts = new NDList(copies);
        for (int j = 0; j < copies; j++) {
            Taps t = new Taps(rows, h, w, 4);
            for (int r = 0; r < rows; r++) {
                Plan p = plans[r][j];
                int[] sy = offsets(p.heights());
                int[] sx = offsets(p.widths());
                int oy = 0;
                for (int a = 0; a < blocks; a++) {
                    int bh = p.heights()[p.rowPerm()[a]];
                    int ox = 0;
                    for (int b = 0; b < blocks; b++) {
                        int bw = p.widths()[p.colPerm()[b]];
                        t.rotate(r, oy, ox, sy[p.rowPerm()[a]], sx[p.colPerm()[b]], bh, bw, p.radians()[a * blocks + b]);
                        ox += bw;
                    }
                    oy += bh;
                }
            }
            parts.add(t.apply(x));
        }
        return Rows.concat(parts);
    }

    /** Start of each strip in input order. */
    private static int[] offsets(int[] lengths) {
        int[] o = new int[lengths.length];
        for (int i = 1; i < lengths.length; i++) {
            o[i] = o[i - 1] + lengths[i - 1];
        }
        return o;
    }

    /**
     * Row-sized arrays per copy that its graph holds until the backward, the copy included (the
     * memory estimate's figure): from the peak that {@code jobs/bench --parts} measured, 3597 MiB
     * for 20 copies of ten 299 x 299 images, less the surrogates' activations, the inputs and the
     * step's fixed part (docs/memory.md).
     */
    @Override
    public double graphRowsPerOutputRow() {
        return 7;
    }

    @Override
    public int copies() {
        return copies;
    }
}
