package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.StepContext;
import io.advspark.model.Autograd;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.Random;

/**
 * OPS, operator-perturbation-based stochastic optimisation (Guo et al., "Boosting Adversarial
 * Transferability through Augmentation in Hypothesis Space", CVPR 2025): the gradient of a step
 * is averaged over the iterate itself and, for each of {@code neighbors} random neighbours
 * {@code x + e_j} (uniform noise in {@code [-r_j, r_j]}), over {@code operators} randomly composed
 * image operators {@code o}: {@code (g(x) + sum_j sum_o g(o(x + e_j))) / (1 + neighbors x
 * operators)}, so the surrogate's "hypothesis" is augmented both in the input and in the
 * operator applied before it. Here that average is the engine's loss average over copies: the
 * transform returns {@code 1 + neighbors x operators} copies of every row stacked on the batch
 * axis, copy 0 the row itself and copy {@code 1 + j x operators + o} the row's
 * {@code o_{j,o}(x + e_j)}; copy c of row r at row {@code c x rows + r}. The engine cuts those
 * rows into micro-batches under {@code max-rows} (the result does not depend on the cut).
 *
 * <p>Neighbours: radius {@code r = beta x eps x ratio}, ratio one of 0.25, 0.5, ..., 1.5
 * (TransferAttack's {@code sample_ratios}), noise uniform in {@code [-r, r]}, not clipped to
 * [0, 1] (TransferAttack adds it to {@code data + delta} unclipped). Operators: a composition of
 * {@code L} basic operators drawn with replacement, L uniform in {@code min_level..max_level},
 * applied in the order drawn. The 31 basic operators, by index: 0 identity; 1 vertical flip;
 * 2 horizontal flip; 3 vertical and 4 horizontal cyclic shift by a random amount
 * ({@code torch.roll}); 5-13 rotation about the centre by +5, -5, +15, -15, +45, -45, +90, -90,
 * 180 degrees (counter-clockwise on screen for positive angles, {@link Rotate#rotate}); 14-20
 * scaling {@code x / s}, s = 2..8; 21-30 DI ({@link DiverseInput}) with resize rate 1.1, 1.3,
 * ..., 2.9, always on (TransferAttack comments DI's probability out).
 *
 * <p>Draws, per row r (image r mod N, rows in order), from {@code ctx.draws().rng(r)}: for each
 * neighbour j = 0..neighbors-1 in order: the ratio index ({@code nextInt(6)}), the noise (C x H x
 * W values {@code -r + (r - -r) nextFloat()} in float, channel-major then row-major, r the float
 * {@code (float) (beta x ratio x eps01)}), then for each operator o = 0..operators-1 in order: the
 * level ({@code min_level + nextInt(max_level - min_level + 1)}), then for each of its L basic
 * operators: the index ({@code nextInt(31)}) and that operator's own draws: the shift
 * ({@code nextInt(H)} or {@code nextInt(W)}), DI's plan ({@link DiverseInput#draw}: rnd, top,
 * left, the coin); the others draw nothing. So an image's result depends only on its own stream.
 *
 * <p>Differentiable in x: flips and shifts are index permutations, rotations bilinear gathers,
 * scaling and DI linear maps, the noise an addition; no straight-through part.
 *
 * <p>Cost: {@code 1 + neighbors x operators} gradients per step, 201 at the defaults: every image
 * sends 201 rows (times {@code copies}) through each surrogate per step, forward and backward, so
 * a 10-step attack is about 2010 forward+backward rows per image and surrogate. Measured
 * ({@code jobs/bench --parts --repeat 1 --parts-steps 2 --parts-only OPS}, the two small
 * MobileNets, ten 299 x 299 NIPS images, 2 libtorch threads on a 2-core AMD EPYC): 54.3 s per
 * iteration, 200 x MI, 41 forwards per iteration.
 *
 * <p>Memory: the copies are built {@link #copiesPerChunk()} ({@code operators}) at a time, copies
 * [0, 20), [20, 40), ..., [200, 201) at the defaults: the engine renders a chunk from the draws of
 * the whole call ({@link #draw}), sends it through the surrogates under the row cap, carries its
 * gradient back and frees it before the next, so a step holds one chunk's copies and graph, not
 * 201 (built at once they did not fit 24 GiB at batch 10 on 299-px images). Peaks of 4951 and
 * 3815 MiB above the idle process in two such runs ({@link #graphRowsPerOutputRow()}).
 *
 * <p>Versus TransferAttack's {@code ops.py} (the published code; the paper's text was not
 * reachable from here, so its settings are TransferAttack's):
 * <ul>
 *   <li>TransferAttack draws a pool of 60 noises once per attack (10 per ratio) and samples 10
 *       of them without replacement at each step, the same noise for every image of the batch;
 *       here every image draws each neighbour's ratio and noise afresh at every step. The marginal
 *       distribution of a neighbour is the same (ratio uniform over the six, then uniform noise);
 *       the pool would make the steps' neighbours share 60 vectors, and it is state across steps
 *       that an input transform (one instance, also called per sampled point by VMI-like rules)
 *       does not carry.
 *   <li>TransferAttack builds, per neighbour, 31 compositions of each level 2, 3, 4 and samples
 *       20 of those 93 without replacement, one list for the whole batch, and its shifts and DI
 *       draw their amounts once per call (batch-wide); here each (image, neighbour, operator)
 *       draws its level uniformly and its own composition and amounts (levels i.i.d. instead of
 *       nearly balanced within a step).
 *   <li>Its {@code functools.reduce} applies the last-drawn operator first; here the first drawn
 *       is applied first (the operators are i.i.d., so the distribution is the same).
 *   <li>Rotations: torchvision's {@code rotate} defaults to nearest-neighbour sampling; here they
 *       are bilinear ({@link Rotate}, zero outside), as the catalogue's other rotations. At +-90
 *       and 180 degrees on square images both are the same pixel permutation.
 * </ul>
 *
 * <p>Published defaults (TransferAttack's {@code OPS}): beta 2, 10 neighbours, 20 operators,
 * levels 2..4; with MI-FGSM (decay 1), eps 16/255, 10 steps of eps/10. Spec
 * {@code ops(neighbors=10, operators=20, beta=2, min_level=2, max_level=4)}.
 */
public record Ops(int neighbors, int operators, double beta, int minLevel, int maxLevel) implements InputTransform {
    public static final Entry<Ops> DECLARATION = Entry.of(Kind.INPUT, "ops", Ops.class)
            .summary("Operator-perturbation sampling: the iterate plus neighbours x + e_j, each under random compositions of"
                    + " flips, cyclic shifts, rotations, scalings and DI; 1 + neighbors x operators copies (201 gradients per step)")
            .paper("Guo et al., \"Boosting Adversarial Transferability through Augmentation in Hypothesis Space\", CVPR 2025")
            .param(Param.integer("neighbors", 10, 0, 64,
                    "random neighbours x + e_j per step"))
            .param(Param.integer("operators", 20, 1, 64,
                    "random operator compositions per neighbour"))
            .param(Param.dbl("beta", 2.0, 0, 10,
                    "neighbour radius beta x eps x ratio, ratio one of 0.25, 0.5, ..., 1.5"))
            .param(Param.integer("min_level", 2, 1, 8,
                    "fewest basic operators in a composition")
                    .from("minLevel"))
            // At least 2: a composition; single operators are min_level = 1 with any max_level.
            .param(Param.integer("max_level", 4, 2, 8,
                    "most basic operators in a composition (at least min_level)")
                    .from("maxLevel"))
            .randomised()
            .build(s -> new Ops(s.integer("neighbors"), s.integer("operators"), s.dbl("beta"), s.integer("min_level"),
                    s.integer("max_level")));

    /** The neighbour radii as fractions of {@code beta x eps} (TransferAttack's sample_ratios). */
    static final double[] RATIOS = {0.25, 0.5, 0.75, 1.0, 1.25, 1.5};
    /** Angles of the basic rotations 5..13, in degrees. */
    static final double[] ANGLES = {5, -5, 15, -15, 45, -45, 90, -90, 180};
    /** Resize rates of the basic DI operators 21..30. */
    static final double[] RATES = {1.1, 1.3, 1.5, 1.7, 1.9, 2.1, 2.3, 2.5, 2.7, 2.9};
    /** Number of basic operators. */
    static final int BASIC = 31;
    private static final int ROTATE = 5;
    private static final int SCALE = 14;
    private static final int DI = 21;
    private static final DiverseInput[] DIS = new DiverseInput[RATES.length];

    static {
        for (int i = 0; i < RATES.length; i++) {
            DIS[i] = new DiverseInput(1.0, RATES[i]);
        }
    }

    public Ops {
        if (minLevel > maxLevel) {
            throw new IllegalArgumentException("ops: min_level " + minLevel + " > max_level " + maxLevel);
        }
    }

    /** One basic operator and its draws: the shift, or DI's plan (else 0 / null). */
    public record Basic(int op, int shift, DiverseInput.Plan di) {}

    /**
     * The draws of one row: each neighbour's ratio index and noise (C x H x W, channel-major), and
     * its operators' basic operators in the order drawn and applied: {@code ops[j][o][k]}.
     */
    public record Plan(int[] ratio, float[][] noise, Basic[][][] ops) {}

    /** Draws the plans of {@code rows} rows of C x H x W images in the documented order. */
    public Plan[] plan(StepContext ctx, int rows, int c, int h, int w) {
        Plan[] out = new Plan[rows];
        for (int r = 0; r < rows; r++) {
            Random g = ctx.draws().rng(r);
            int[] ratio = new int[neighbors];
            float[][] noise = new float[neighbors][];
            Basic[][][] ops = new Basic[neighbors][operators][];
            for (int j = 0; j < neighbors; j++) {
                ratio[j] = g.nextInt(RATIOS.length);
                float rad = (float) (beta * RATIOS[ratio[j]] * ctx.eps01());
                float[] v = new float[c * h * w];
                for (int i = 0; i < v.length; i++) {
                    v[i] = -rad + (rad - -rad) * g.nextFloat();
                }
                noise[j] = v;
                for (int o = 0; o < operators; o++) {
                    Basic[] seq = new Basic[minLevel + g.nextInt(maxLevel - minLevel + 1)];
                    for (int k = 0; k < seq.length; k++) {
                        int op = g.nextInt(BASIC);
                        seq[k] = switch (op) {
                            case 3 -> new Basic(op, g.nextInt(h), null);
                            case 4 -> new Basic(op, g.nextInt(w), null);
                            default -> op >= DI ? new Basic(op, 0, DIS[op - DI].draw(g, h)) : new Basic(op, 0, null);
                        };
                    }
                    ops[j][o] = seq;
                }
            }
            out[r] = new Plan(ratio, noise, ops);
        }
        return out;
    }

    @Override
    public NDArray apply(NDArray x, StepContext ctx) {
        return draw(x, ctx).render(x, 0, copies());
    }

    @Override
    public Chunks draw(NDArray x, StepContext ctx) {
        Shape s = x.getShape();
        Plan[] plans = plan(ctx, (int) s.get(0), (int) s.get(1), (int) s.get(2), (int) s.get(3));
        return (in, from, to) -> render(in, plans, from, to);
    }

    /** OPS with the given plans (one per row); differentiable. */
    public NDArray apply(NDArray x, Plan[] plans) {
        return render(x, plans, 0, copies());
    }

    /**
     * Copies {@code from .. to-1} of every row under the given plans: copy 0 the row itself, copy
     * {@code 1 + j x operators + o} its {@code o_{j,o}(x + e_j)}; copy c of row r at row
     * {@code (c - from) x rows + r}. Differentiable.
     */
    public NDArray render(NDArray x, Plan[] plans, int from, int to) {
        if (from < 0 || to > copies() || from >= to) {
            throw new IllegalArgumentException("ops: copies [" + from + ", " + to + ") of " + copies());
        }
        if (neighbors == 0) {
            return x;
        }
        Shape s = x.getShape();
        int rows = (int) s.get(0);
        NDManager m = x.getManager();
        Shape one = new Shape(1, s.get(1), s.get(2), s.get(3));
        NDList out = new NDList((to - from) * rows);
        if (from == 0) {
            out.add(x);
        }
        int first = Math.max(from, 1) - 1;
        int last = to - 1;
        NDArray[] xi = new NDArray[rows];
        for (int r = 0; r < rows; r++) {
            xi[r] = x.get(new NDIndex("{}:{}", r, r + 1));
        }
        // Each neighbour once per row and chunk, shared by its operators in the chunk.
        for (int j = first / operators; j <= (last - 1) / operators && first < last; j++) {
            NDArray[] near = new NDArray[rows];
            for (int r = 0; r < rows; r++) {
                near[r] = xi[r].add(m.create(plans[r].noise()[j], one));
            }
            int lo = Math.max(first, j * operators) - j * operators;
            int hi = Math.min(last, (j + 1) * operators) - j * operators;
            for (int o = lo; o < hi; o++) {
                for (int r = 0; r < rows; r++) {
                    NDArray t = near[r];
                    for (Basic b : plans[r].ops()[j][o]) {
                        NDArray next = basic(t, b);
                        // An intermediate composition's handle freed once used (the graph keeps
                        // what its backward needs); not the neighbour, which later operators share.
                        if (t != near[r] && next != t) {
                            t.close();
                        }
                        t = next;
                    }
                    out.add(t);
                }
            }
        }
        return Rows.concat(out);
    }

    /** A neighbour's operators per chunk: the engine never holds more than one neighbour's copies. */
    @Override
    public int copiesPerChunk() {
        return Math.min(copies(), operators);
    }

    /** One basic operator on one image [1,C,H,W]. */
    static NDArray basic(NDArray xi, Basic b) {
        Shape s = xi.getShape();
        int c = (int) s.get(1);
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        int op = b.op();
        if (op >= DI) {
            return DIS[op - DI].apply(xi, new DiverseInput.Plan[] {b.di()});
        }
        if (op >= SCALE) {
            // An array libtorch owns, not div(Number) (Autograd#constant).
            return xi.div(Autograd.scalar(xi.getManager(), (float) (op - SCALE + 2)));
        }
        if (op >= ROTATE) {
            return Rotate.rotate(xi, Math.toRadians(ANGLES[op - ROTATE]), c, h, w);
        }
        return switch (op) {
            case 0 -> xi;
            case 1 -> xi.flip(2);
            case 2 -> xi.flip(3);
            case 3 -> Sia.roll(xi, b.shift(), 2, h);
            case 4 -> Sia.roll(xi, b.shift(), 3, w);
            default -> throw new IllegalStateException("no basic operator " + op);
        };
    }

    /**
     * Row-sized arrays per copy that its graph holds until the backward, the copy included (the
     * memory estimate's figure): from the peak that {@code jobs/bench --parts} measured, 4951 and
     * 3815 MiB (the larger taken) for chunks of 20 copies of ten 299 x 299 images: up to four
     * operators per copy, rotations' gathers and DI's canvas up to 2.9 x the side, less the
     * surrogates' activations, the inputs and the step's fixed part (docs/memory.md).
     */
    @Override
    public double graphRowsPerOutputRow() {
        return 14;
    }

    @Override
    public int copies() {
        return 1 + neighbors * operators;
    }
}
