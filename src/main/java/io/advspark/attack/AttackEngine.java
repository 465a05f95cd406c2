package io.advspark.attack;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.augment.Checkpoints;
import io.advspark.attack.augment.ModelAugmentation;
import io.advspark.attack.ensemble.EnsembleStrategy;
import io.advspark.attack.gradient.GradientTransform;
import io.advspark.attack.init.ZeroInit;
import io.advspark.attack.input.InputTransform;
import io.advspark.attack.loss.FeatureLoss;
import io.advspark.attack.loss.FeatureProbe;
import io.advspark.attack.loss.Loss;
import io.advspark.attack.update.GradientOracle;
import io.advspark.attack.update.UpdateRule;
import io.advspark.model.Autograd;
import io.advspark.model.Classifier;
import io.advspark.model.Ensemble;
import java.util.ArrayList;
import java.util.List;

/**
 * The iterative transfer-attack loop, in pixel space [0,1]:
 *
 * <pre>
 *   x_0 = init(x)
 *   for t in 0..T-1:
 *     p      = update.gradientPoint(x_t)
 *     g      = d loss(ensemble(inputs(img(p)))) / d p (eval-mode surrogates; with attack.augment
 *                                                     a fresh dropout mask per forward)
 *     g      = gradients(g)
 *     g      = strategy(p, g)                         (only with an ensemble strategy, svre/cwa/adaea:
 *                                                     from the members' own gradients; observers see
 *                                                     it as extra state ensemble_grad)
 *     d      = update.direction(g)                    (e.g. sign of the momentum)
 *     x_t+1  = clip(clip(x_t + alpha * d, x - eps, x + eps), 0, 1)
 *   return img(x_T)
 *
 *   img(p) = p                                        without a perturbation filter
 *   img(p) = clip(clip(x + F(p - x), x - eps, x + eps), 0, 1)   with a filter F
 * </pre>
 *
 * With a filter the iterate is a latent one: the perturbation that reaches the models (and the
 * result) is always {@code F} of the latent perturbation {@code x_t - x}, applied once, and the
 * gradient is taken through {@code F} and the clip (so it is {@code F^T g}, zero where the clip
 * is active), as low-frequency attacks search in the filter's range (Guo et al., UAI 2019;
 * Sharma et al., IJCAI 2019). The update rule, its look-ahead and neighbour points, and the
 * observer all see the latent iterate. Filtering the accumulated perturbation after every step
 * instead (the rule before this) blurs an early step up to T times and, with sign steps, left
 * a fifth of the perturbation's L2 norm: white-box success on the CIFAR ResNets fell from 100 %
 * to 26 % with {@code gaussian(sigma=0.7)} (docs/perturbation-filters.md).
 *
 * With a feature-level loss ({@link FeatureLoss}: ILA, FIA, NAA, ILPD) the loss reads every member's
 * tap instead of the ensemble's logits; its per-attack state is prepared once, before the start,
 * at the clean images (tap activations and tap gradients over many rows cut under the row cap,
 * ILA's reference attack run by a nested engine), and read by every step; a loss with per-step
 * state (ILPD's noisy reference) prepares it at the start of each step, before the step's draws.
 *
 * Each iteration's graph lives in a scratch manager that is closed at the end of the step, so
 * native memory stays flat across steps and batches.
 */
public final class AttackEngine {
    /**
     * Rows per surrogate forward when the caller sets no cap: bounds a step's memory (a 299 x 299
     * MobileNet's activations for its backward are tens of MB per row on CPU) while keeping
     * forwards large enough to be efficient. Results do not depend on it.
     */
    public static final int DEFAULT_MAX_ROWS = 64;

    private final Attack attack;
    private final Ensemble ensemble;
    private final int maxRows;
    /**
     * The feature loss's per-attack state of the batch this thread is running (empty for other
     * losses): per thread, so one engine may run batches on several threads at once.
     */
    private final ThreadLocal<java.util.Map<String, NDArray>> prepared = ThreadLocal.withInitial(java.util.Map::of);
    /** The attack's checkpoint sampling, or null. */
    private final Checkpoints checkpoints;
    /** Whether the attack has augmentations acting at the dropout sites. */
    private final boolean siteAugments;

    public AttackEngine(Attack attack, Ensemble ensemble) {
        this(attack, ensemble, DEFAULT_MAX_ROWS);
    }

    /**
     * @param maxRows the most rows one surrogate forward (and its backward) takes: the images
     *     times the copies, transformed copies and sampled points of a gradient call are cut into
     *     micro-batches of at most this many rows. Results do not depend on it, bit for bit.
     */
    public AttackEngine(Attack attack, Ensemble ensemble, int maxRows) {
        this.attack = attack;
        this.ensemble = ensemble;
        if (maxRows < 1) {
            throw new IllegalArgumentException("max-rows must be >= 1, got " + maxRows);
        }
        this.maxRows = maxRows;
        if (attack.steps() < 1) {
            throw new IllegalArgumentException("steps must be >= 1");
        }
        if (attack.strategy() != null && !attack.augments().isEmpty()) {
            // The member queries draw no dropout masks yet (their rows differ per query).
            throw new IllegalArgumentException("attack.ensemble " + attack.ensembleMode().spec()
                    + " does not combine with attack.augment " + augmentSpecs() + " yet");
        }
        if (attack.loss() instanceof FeatureLoss fl) {
            // A member's activations cannot be fused with another's: the loss is a share-weighted
            // sum of the members' own losses, which no strategy head or other fusion expresses.
            if (attack.strategy() != null || attack.fusion() != EnsembleMode.LOGITS || !attack.augments().isEmpty()) {
                throw new IllegalArgumentException("loss " + fl.spec() + " (a feature-level loss) takes the logit ensemble"
                        + " without attack.augment only, not ensemble=" + attack.ensembleMode().spec()
                        + (attack.augments().isEmpty() ? "" : " augment=" + augmentSpecs()));
            }
            for (Classifier m : ensemble.members()) {
                if (m.card().taps().stream().noneMatch(t -> t.name().equals(fl.tap()))) {
                    throw new IllegalArgumentException("loss " + fl.spec() + ": model " + m.card().name() + " has no tap '"
                            + fl.tap() + "' (its card lists " + m.card().taps().stream().map(t -> t.name()).toList()
                            + "; export it with tools/export_model.py --taps, docs/exporting.md)");
                }
            }
        }
        this.checkpoints = attack.augments().stream().filter(a -> a instanceof Checkpoints).map(a -> (Checkpoints) a)
                .findFirst().orElse(null);
        this.siteAugments = attack.augments().stream().anyMatch(ModelAugmentation::usesDropoutSites);
        if (checkpoints != null) {
            // The same refusals as the driver's Augments#checkGroups, for callers without a driver.
            if (siteAugments) {
                throw new IllegalArgumentException("attack.augment " + augmentSpecs()
                        + ": checkpoints does not combine with dropout yet");
            }
            if (attack.fusion() == EnsembleMode.PROBS) {
                throw new IllegalArgumentException("attack.augment " + checkpoints.spec() + " needs ensemble = logits or losses");
            }
            checkpoints.sampledGroups(ensemble);
        }
        if (siteAugments) {
            // The driver's model check has run the full probe; here only a cheap look at the
            // module's methods (no tensor work on the caller's thread, see TorchThreads).
            for (Classifier m : ensemble.members()) {
                if (m.augment() && !m.hasDropoutSites()) {
                    throw new IllegalArgumentException("attack.augment " + augmentSpecs() + ": model " + m.card().name()
                            + " has no dropout sites (methods " + m.methods() + ")");
                }
            }
        }
    }

    private String augmentSpecs() {
        return attack.augments().stream().map(ModelAugmentation::spec).toList().toString();
    }

    public Attack attack() {
        return attack;
    }

    /**
     * Runs the attack on a batch.
     *
     * @param clean NCHW pixels in [0,1]
     * @param shape {@code [N, 3, H, W]}
     * @param labels0 0-based true labels
     * @param targets0 0-based targets
     * @param parent manager for the batch's tensors (a sub-manager is used and closed)
     * @param observer optional per-step observer
     * @return the final iterate, NCHW floats in [0,1], within eps of {@code clean}
     */
    public float[] run(
            float[] clean, long[] shape, int[] labels0, int[] targets0, NDManager parent, StepObserver observer) {
        return run(clean, shape, labels0, targets0, null, parent, observer);
    }

    /**
     * Runs the attack on a batch with the given random streams (one per image; see {@link Draws}).
     */
    public float[] run(float[] clean, long[] shape, int[] labels0, int[] targets0, Draws draws, NDManager parent,
            StepObserver observer) {
        return run(clean, shape, labels0, targets0, null, draws, parent, observer);
    }

    /**
     * Runs the attack on a batch with guide images: one per image, same layout as {@code clean}
     * (the {@code target} start blends toward them; see {@link io.advspark.attack.init.TargetInit}).
     * {@code guides} may be null when the init needs none.
     */
    public float[] run(float[] clean, long[] shape, int[] labels0, int[] targets0, float[] guides, Draws draws,
            NDManager parent, StepObserver observer) {
        return runCounted(clean, shape, labels0, targets0, guides, draws, parent, observer).adversarial();
    }

    /**
     * What a run produced: the final iterate, and for each image the number of steps at which its
     * gradient was exactly zero (the loss is flat or saturated there, or float32 underflowed: such
     * an image can end unchanged).
     *
     * @param adversarial NCHW floats in [0,1], within eps of the clean images
     * @param zeroGradientSteps per image, steps whose gradient was all zeros
     */
    public record Result(float[] adversarial, int[] zeroGradientSteps, int[] stepsDone, int[] checks) {
        /** A run without early exit: every image ran every step. */
        public Result(float[] adversarial, int[] zeroGradientSteps, int steps) {
            this(adversarial, zeroGradientSteps, filled(zeroGradientSteps.length, steps), new int[zeroGradientSteps.length]);
        }

        private static int[] filled(int n, int v) {
            int[] a = new int[n];
            java.util.Arrays.fill(a, v);
            return a;
        }
    }

    /** As {@link #run(float[], long[], int[], int[], float[], Draws, NDManager, StepObserver)}, with the zero-gradient counts. */
    public Result runCounted(float[] clean, long[] shape, int[] labels0, int[] targets0, float[] guides, Draws draws,
            NDManager parent, StepObserver observer) {
        return runCounted(clean, shape, labels0, targets0, guides, draws, parent, observer, null);
    }

    /**
     * As {@link #runCounted(float[], long[], int[], int[], float[], Draws, NDManager, StepObserver)},
     * with early exit: {@code stop} (null: none) is asked every {@link StopCheck#everySteps()} steps
     * which running images are done; those keep the output they had then and leave the batch. The
     * result then also says, per image, the steps it ran and the checks it took part in.
     */
    public Result runCounted(float[] clean, long[] shape, int[] labels0, int[] targets0, float[] guides, Draws draws,
            NDManager parent, StepObserver observer, StopCheck stop) {
        int n = (int) shape[0];
        if (guides != null && guides.length != clean.length) {
            throw new IllegalArgumentException("need one guide image per image: " + guides.length + " floats for " + clean.length);
        }
        if (labels0.length != n || targets0.length != n) {
            throw new IllegalArgumentException("labels and targets must have one entry per image");
        }
        int classes = ensemble.datasetClasses();
        for (int i = 0; i < n; i++) {
            if (labels0[i] < 0 || labels0[i] >= classes || targets0[i] < 0 || targets0[i] >= classes) {
                throw new IllegalArgumentException(
                        "label out of range 0.." + (classes - 1) + " for image " + i + ": " + labels0[i] + "/" + targets0[i]);
            }
        }
        float eps01 = attack.eps01();
        float alpha01 = attack.stepSize01();
        Draws rng = draws != null ? draws : Draws.sequential(n);
        if (rng.images() != n) {
            throw new IllegalArgumentException("need one random stream per image: " + rng.images() + " for " + n);
        }
        try (NDManager batch = parent.newSubManager()) {
            NDArray x0 = batch.create(clean, new Shape(shape));
            NDArray lo = x0.sub(eps01);
            NDArray hi = x0.add(eps01);
            NDArray g = guides == null ? null : batch.create(guides, new Shape(shape));
            // A feature loss's per-attack state, at the clean images, before the start (its draws first).
            prepared.remove();
            if (attack.loss() instanceof FeatureLoss fl) {
                StepContext pre = new StepContext(-1, attack.steps(), rng, x0, eps01, alpha01, g);
                Probe probe = new Probe(x0, labels0, targets0, rng, batch, observer, -1);
                prepared.set(fl.prepare(probe, pre));
                for (var e : prepared.get().entrySet()) {
                    e.getValue().attach(batch);
                    if (observer != null) {
                        observer.onState(0, e.getKey(), null, e.getValue());
                    }
                }
            }
            NDArray x = attack.init().start(new StepContext(-1, attack.steps(), rng, x0, eps01, alpha01, g));
            x = NDArrays.minimum(NDArrays.maximum(x, lo), hi).clip(0f, 1f);
            UpdateRule.State state = attack.update().start(x0, batch);
            EnsembleStrategy strategy = attack.strategy();
            UpdateRule.State strategyState = strategy == null ? null : strategy.start(x0, batch);
            // Counted on the device and read once at the end: no extra sync in the step loop.
            NDArray zeroSteps = batch.zeros(new Shape(n), DataType.INT32);
            // Early exit: the images still running (indices into the caller's batch) and what
            // those that left it keep. Without stop these stay as they are.
            int perImage = (int) (shape[1] * shape[2] * shape[3]);
            int[] running = java.util.stream.IntStream.range(0, n).toArray();
            float[] out = stop == null ? null : new float[n * perImage];
            int[] zeroOut = new int[n];
            int[] stepsDone = new int[n];
            int[] checks = new int[n];
            java.util.Arrays.fill(stepsDone, attack.steps());
            for (int t = 0; t < attack.steps(); t++) {
                StepContext base = new StepContext(t, attack.steps(), rng, x0, eps01, alpha01, g);
                // The step's checkpoint members, drawn before any other draw of the step (Checkpoints).
                Checkpoints.Picks picks = checkpoints == null ? null : checkpoints.draw(ensemble, n, rng);
                java.util.Map<String, NDArray> batchState = prepared.get();
                try (NDManager step = batch.newSubManager()) {
                    StepContext ctx = base.withInputGradients(new ModelInputs(labels0, targets0, base, step, observer, picks));
                    if (attack.loss() instanceof FeatureLoss fl) {
                        // The loss's per-step state (ILPD's noisy reference), its draws first in the step.
                        java.util.Map<String, NDArray> per = fl.prepareStep(new Probe(x0, labels0, targets0, rng, step, observer, t), ctx);
                        if (!per.isEmpty()) {
                            java.util.Map<String, NDArray> merged = new java.util.LinkedHashMap<>(batchState);
                            merged.putAll(per);
                            prepared.set(merged);
                            for (var e : per.entrySet()) { // as the per-attack state: each array once, as state of its step
                                if (observer != null) {
                                    observer.onState(t, e.getKey(), null, e.getValue());
                                }
                            }
                        }
                    }
                    NDArray momentumBefore = state.momentum();
                    NDArray varianceBefore = state.variance();
                    java.util.Map<String, NDArray> extrasBefore = state.extras();
                    GradientOracle oracle = new Oracle(lo, hi, labels0, targets0, ctx, step, observer, picks);
                    NDArray point = attack.update().gradientPoint(x, state, ctx);
                    NDArray grad = oracle.at(point);
                    java.util.Map<String, NDArray> strategyBefore = strategyState == null ? java.util.Map.of()
                            : strategyState.extras();
                    // An ensemble strategy turns the ensemble gradient into the one the rule uses.
                    NDArray used = strategy == null ? grad : strategy.gradient(point, grad, strategyState, ctx, oracle);
                    zeroSteps.addi(zeroRows(used));
                    NDArray dir = attack.update().direction(used, state, ctx, oracle);
                    NDArray next = x.add(dir.mul(alpha01));
                    next = NDArrays.minimum(NDArrays.maximum(next, lo), hi).clip(0f, 1f);
                    if (observer != null) {
                        observer.onStep(t, x, momentumBefore, grad, next, state.momentum());
                        if (state.variance() != null) {
                            observer.onVariance(t, varianceBefore, state.variance());
                        }
                        for (var e : state.extras().entrySet()) {
                            observer.onState(t, e.getKey(), extrasBefore.get(e.getKey()), e.getValue());
                        }
                        if (strategy != null) {
                            observer.onState(t, EnsembleStrategy.GRADIENT, null, used);
                            for (var e : strategyState == null ? java.util.Set.<java.util.Map.Entry<String, NDArray>>of()
                                    : strategyState.extras().entrySet()) {
                                observer.onState(t, e.getKey(), strategyBefore.get(e.getKey()), e.getValue());
                            }
                        }
                    }
                    next.attach(batch);
                    state.attach(batch);
                    if (strategyState != null) {
                        strategyState.attach(batch);
                        for (var e : strategyBefore.entrySet()) {
                            if (e.getValue() != strategyState.extras().get(e.getKey())) {
                                e.getValue().close();
                            }
                        }
                    }
                    if (x != x0) {
                        x.close();
                    }
                    if (momentumBefore != null && momentumBefore != state.momentum()) {
                        momentumBefore.close();
                    }
                    for (var e : extrasBefore.entrySet()) {
                        if (e.getValue() != state.extras().get(e.getKey())) {
                            e.getValue().close();
                        }
                    }
                    x = next;
                } finally {
                    prepared.set(batchState); // the step's own arrays closed with its memory
                }
                if (stop != null && (t + 1) % stop.everySteps() == 0 && t + 1 < attack.steps()) {
                    StepContext at = new StepContext(t + 1, attack.steps(), rng, x0, eps01, alpha01, g);
                    float[] now = image(x, lo, hi, at).toFloatArray();
                    boolean[] done = stop.done(t + 1, now, new long[] {running.length, shape[1], shape[2], shape[3]},
                            running.clone());
                    int[] zeroNow = null;
                    int left = 0;
                    for (int i = 0; i < running.length; i++) {
                        checks[running[i]]++;
                        if (done[i]) {
                            zeroNow = zeroNow == null ? zeroSteps.toIntArray() : zeroNow;
                            System.arraycopy(now, i * perImage, out, running[i] * perImage, perImage);
                            stepsDone[running[i]] = t + 1;
                            zeroOut[running[i]] = zeroNow[i];
                        } else {
                            left++;
                        }
                    }
                    if (left == 0) {
                        return new Result(out, zeroOut, stepsDone, checks);
                    }
                    if (left < running.length) {
                        // The rest of the batch runs on without the finished images: every array
                        // carried across steps is per image along axis 0.
                        int[] kept = new int[left];
                        for (int i = 0, j = 0; i < running.length; i++) {
                            if (!done[i]) {
                                kept[j++] = i;
                            }
                        }
                        int from = running.length;
                        java.util.function.UnaryOperator<NDArray> rows = a -> {
                            if (a.getShape().get(0) != from) {
                                throw new IllegalStateException("early exit: a state array of shape " + a.getShape()
                                        + " is not per image (" + from + " rows)");
                            }
                            NDList parts = new NDList();
                            for (int i : kept) {
                                parts.add(a.get(new ai.djl.ndarray.index.NDIndex("{}:{}", i, i + 1)));
                            }
                            NDArray r = parts.size() == 1 ? parts.get(0).duplicate() : NDArrays.concat(parts, 0);
                            r.attach(batch);
                            return r;
                        };
                        x = rows.apply(x);
                        x0 = rows.apply(x0);
                        lo = rows.apply(lo);
                        hi = rows.apply(hi);
                        g = g == null ? null : rows.apply(g);
                        zeroSteps = rows.apply(zeroSteps);
                        state.select(rows);
                        if (strategyState != null) {
                            strategyState.select(rows);
                        }
                        java.util.Map<String, NDArray> kept0 = new java.util.LinkedHashMap<>();
                        for (var e : prepared.get().entrySet()) {
                            kept0.put(e.getKey(), rows.apply(e.getValue()));
                        }
                        prepared.set(kept0);
                        labels0 = pick(labels0, kept);
                        targets0 = pick(targets0, kept);
                        rng = rng.select(kept);
                        running = pick(running, kept);
                        n = left;
                    }
                }
            }
            StepContext last = new StepContext(attack.steps(), attack.steps(), rng, x0, eps01, alpha01, g);
            if (stop == null) {
                float[] adv = attack.filter() != null ? image(x, lo, hi, last).toFloatArray() : x.toFloatArray();
                return new Result(adv, zeroSteps.toIntArray(), attack.steps());
            }
            float[] now = image(x, lo, hi, last).toFloatArray();
            int[] zeroNow = zeroSteps.toIntArray();
            for (int i = 0; i < running.length; i++) {
                System.arraycopy(now, i * perImage, out, running[i] * perImage, perImage);
                zeroOut[running[i]] = zeroNow[i];
            }
            return new Result(out, zeroOut, stepsDone, checks);
        } finally {
            prepared.remove(); // its arrays closed with the batch's memory
        }
    }

    private static int[] pick(int[] values, int[] at) {
        int[] r = new int[at.length];
        for (int i = 0; i < at.length; i++) {
            r[i] = values[at[i]];
        }
        return r;
    }

    /** 1 for every image whose gradient is all zeros, else 0 (INT32, one per image). */
    private static NDArray zeroRows(NDArray grad) {
        long n = grad.getShape().get(0);
        return grad.abs().reshape(n, -1).max(new int[] {1}).eq(0f).toType(DataType.INT32, false);
    }

    /**
     * Top-1 predictions (0-based dataset labels) of the ensemble as this attack combines it:
     * argmax of the weighted logits ({@code logits}), of the weighted mean probabilities
     * ({@code probs}), or of the weighted sum of log-probabilities ({@code losses}: the class
     * whose cross-entropy the weighted per-surrogate losses favour). Without a graph.
     */
    public int[] predict(float[] pixels, long[] shape, NDManager parent) {
        if (attack.fusion() == EnsembleMode.LOGITS) {
            return ensemble.predict(pixels, shape, parent);
        }
        try (NDManager m = parent.newSubManager()) {
            NDArray x = m.create(pixels, new Shape(shape));
            return Autograd.noGrad(() -> Ensemble.argMaxRows(fusedScores(x)));
        }
    }

    /**
     * The {@code k} best labels (0-based, best first) of each image under the ensemble as this
     * attack combines it ({@link #predict} is their first). Without a graph.
     */
    public int[][] topK(float[] pixels, long[] shape, int k, NDManager parent) {
        try (NDManager m = parent.newSubManager()) {
            NDArray x = m.create(pixels, new Shape(shape));
            float[] z = Autograd.noGrad(() -> (attack.fusion() == EnsembleMode.LOGITS ? ensemble.logits(x) : fusedScores(x))
                    .toFloatArray());
            return io.advspark.model.Classifier.topKRows(z, (int) shape[0], Math.min(k, ensemble.datasetClasses()));
        }
    }

    /** Per-class scores of the {@code probs} and {@code losses} fusions (their argmax is the prediction). */
    private NDArray fusedScores(NDArray x) {
        if (attack.fusion() == EnsembleMode.PROBS) {
            return ensemble.logMeanProbabilities(x);
        }
        NDArray score = null;
        List<NDArray> z = ensemble.memberLogits(x);
        for (int i = 0; i < z.size(); i++) {
            NDArray lp = z.get(i).logSoftmax(1).mul((float) ensemble.share(i));
            score = score == null ? lp : score.add(lp);
        }
        return score;
    }

    /**
     * The image the models see for the (latent) iterate {@code p}: {@code p} itself without a
     * filter, else {@code clip(clip(x + F(p - x), lo, hi), 0, 1)}. Differentiable.
     */
    private NDArray image(NDArray p, NDArray lo, NDArray hi, StepContext ctx) {
        if (attack.filter() == null) {
            return p;
        }
        // delta first: a result belongs to its first operand's manager, and p's is the step's
        // scratch (ctx.clean()'s lives for the whole batch).
        NDArray delta = attack.filter().apply(p.sub(ctx.clean()), ctx);
        return NDArrays.minimum(NDArrays.maximum(delta.add(ctx.clean()), lo), hi).clip(0f, 1f);
    }

    /** The engine's gradients for one step, one point or many at once. */
    private final class Oracle implements GradientOracle {
        private final NDArray lo;
        private final NDArray hi;
        private final int[] labels0;
        private final int[] targets0;
        private final StepContext ctx;
        private final NDManager scratch;
        private final StepObserver observer;
        private final Checkpoints.Picks picks;

        Oracle(NDArray lo, NDArray hi, int[] labels0, int[] targets0, StepContext ctx, NDManager scratch,
                StepObserver observer, Checkpoints.Picks picks) {
            this.picks = picks;
            this.lo = lo;
            this.hi = hi;
            this.labels0 = labels0;
            this.targets0 = targets0;
            this.ctx = ctx;
            this.scratch = scratch;
            this.observer = observer;
        }

        @Override
        public NDArray at(NDArray point) {
            return gradients(List.of(point), FUSED, lo, hi, labels0, targets0, ctx, scratch, observer, picks).get(0).get(0);
        }

        @Override
        public List<NDArray> at(List<NDArray> points) {
            return points.isEmpty() ? List.of() : firsts(gradients(points, FUSED, lo, hi, labels0, targets0, ctx, scratch, observer, picks));
        }

        @Override
        public int members() {
            return ensemble.members().size();
        }

        @Override
        public List<List<NDArray>> perMember(List<NDArray> points) {
            return points.isEmpty() ? List.of()
                    : gradients(points, new EachMember(), lo, hi, labels0, targets0, ctx, scratch, observer, picks);
        }

        @Override
        public List<NDArray> ofMembers(List<NDArray> points, int[] memberOfImage) {
            if (memberOfImage.length != labels0.length) {
                throw new IllegalArgumentException("one member per image: " + memberOfImage.length + " for " + labels0.length);
            }
            for (int k : memberOfImage) {
                if (k < 0 || k >= ensemble.members().size()) {
                    throw new IllegalArgumentException("no member " + k + " in an ensemble of " + ensemble.members().size());
                }
            }
            return points.isEmpty() ? List.of()
                    : firsts(gradients(points, new RowMember(memberOfImage.clone()), lo, hi, labels0, targets0, ctx, scratch,
                            observer, picks));
        }

        @Override
        public NDArray weighted(NDArray point, float[][] weights) {
            if (weights.length != ensemble.members().size()) {
                throw new IllegalArgumentException("one weight row per member: " + weights.length);
            }
            for (float[] w : weights) {
                if (w.length != labels0.length) {
                    throw new IllegalArgumentException("one weight per image: " + w.length + " for " + labels0.length);
                }
            }
            return gradients(List.of(point), new Weighted(weights), lo, hi, labels0, targets0, ctx, scratch, observer, picks)
                    .get(0).get(0);
        }

        @Override
        public void trace(String name, NDArray value) {
            if (observer != null) {
                observer.onState(ctx.step(), name, null, value);
            }
        }

        @Override
        public float[][][] losses(List<NDArray> points) {
            float[][][] out = new float[points.size()][][];
            for (int j = 0; j < points.size(); j++) {
                out[j] = memberLosses(image(points.get(j), lo, hi, ctx), labels0, targets0);
            }
            return out;
        }
    }

    /**
     * The step's {@link InputGradients}: the fused head's input gradient, rows not averaged over
     * copies (k = 1), through {@link #inputGradient} (row cap, observer, dropout masks).
     */
    private final class ModelInputs implements InputGradients {
        private final int[] labels0;
        private final int[] targets0;
        private final StepContext ctx;
        private final NDManager scratch;
        private final StepObserver observer;
        private final Checkpoints.Picks picks;

        ModelInputs(int[] labels0, int[] targets0, StepContext ctx, NDManager scratch, StepObserver observer,
                Checkpoints.Picks picks) {
            this.picks = picks;
            this.labels0 = labels0;
            this.targets0 = targets0;
            this.ctx = ctx;
            this.scratch = scratch;
            this.observer = observer;
        }

        @Override
        public NDArray of(NDArray in) {
            long rows = in.getShape().get(0);
            if (rows % labels0.length != 0) {
                throw new IllegalArgumentException("model inputs of " + rows + " rows for a batch of " + labels0.length);
            }
            return inputGradient(in, 1, FUSED, labels0, targets0, ctx, scratch, observer, picks);
        }

        @Override
        public void trace(String name, NDArray value) {
            if (observer != null) {
                observer.onState(ctx.step(), name, null, value);
            }
        }
    }

    /** What a feature loss asks for while it prepares (see {@link FeatureProbe}). */
    private final class Probe implements FeatureProbe {
        private final NDArray clean;
        private final int[] labels0;
        private final int[] targets0;
        private final Draws draws;
        private final NDManager batch;
        private final StepObserver observer;
        /** The step whose state this probe prepares; -1 before the start (forwards observed as -1, traces as step 0). */
        private final int step;

        Probe(NDArray clean, int[] labels0, int[] targets0, Draws draws, NDManager batch, StepObserver observer, int step) {
            this.step = step;
            this.clean = clean;
            this.labels0 = labels0;
            this.targets0 = targets0;
            this.draws = draws;
            this.batch = batch;
            this.observer = observer;
        }

        @Override
        public Ensemble ensemble() {
            return ensemble;
        }

        @Override
        public NDArray clean() {
            return clean;
        }

        @Override
        public NDManager manager() {
            return batch;
        }

        @Override
        public List<NDArray> taps(int rows, Rows images, String tap) {
            return perMember(rows, images, (member, chunk, from, to, scratch) ->
                    Autograd.noGrad(() -> member.features(chunk).tap(tap)));
        }

        @Override
        public List<NDArray> tapGradients(int rows, Rows images, String tap, Loss objective) {
            int n = labels0.length;
            return perMember(rows, images, (member, chunk, from, to, scratch) -> {
                NDArray a = Autograd.noGrad(() -> member.features(chunk).tap(tap));
                int[] y = new int[to - from];
                int[] t = new int[to - from];
                for (int r = from; r < to; r++) {
                    y[r - from] = labels0[r % n];
                    t[r - from] = targets0[r % n];
                }
                return Autograd.gradient(a, leaf -> objective.of(member.logitsFromTap(chunk, tap, leaf), y, t), scratch);
            });
        }

        /** Micro-batches of at most maxRows rows, built once each in row order, through every member in turn. */
        private List<NDArray> perMember(int rows, Rows images, MemberChunk f) {
            int members = ensemble.members().size();
            List<NDList> parts = new ArrayList<>(members);
            for (int i = 0; i < members; i++) {
                parts.add(new NDList());
            }
            try (NDManager scratch = batch.newSubManager()) {
                for (int from = 0; from < rows; from += maxRows) {
                    int to = Math.min(rows, from + maxRows);
                    NDArray chunk = images.of(from, to, scratch);
                    chunk.attach(scratch);
                    for (int i = 0; i < members; i++) {
                        Classifier member = ensemble.members().get(i);
                        if (observer != null) {
                            observer.onForward(step, i, member.card().name(), to - from);
                        }
                        NDArray out = f.apply(member, chunk, from, to, scratch);
                        out.attach(scratch);
                        parts.get(i).add(out);
                    }
                }
                List<NDArray> out = new ArrayList<>(members);
                for (NDList p : parts) {
                    NDArray all = p.size() == 1 ? p.get(0) : NDArrays.concat(p, 0);
                    // A copy the batch owns: the scratch (and the slices' parents) close here.
                    NDArray kept = all.duplicate();
                    kept.attach(batch);
                    out.add(kept);
                }
                return out;
            }
        }

        @Override
        public NDArray runReference(UpdateRule update, Loss loss, int steps) {
            Attack ref = new Attack(attack.epsPixels(), attack.stepSizePixels(), steps, new ZeroInit(), List.of(), loss,
                    List.of(), update, null);
            long[] shape = clean.getShape().getShape();
            float[] out = new AttackEngine(ref, ensemble, maxRows).run(clean.toFloatArray(), shape, labels0, targets0, draws,
                    batch, null);
            return batch.create(out, clean.getShape());
        }

        @Override
        public void trace(String name, NDArray value) {
            if (observer != null) {
                observer.onState(Math.max(step, 0), name, null, value);
            }
        }
    }

    @FunctionalInterface
    private interface MemberChunk {
        NDArray apply(Classifier member, NDArray chunk, int from, int to, NDManager scratch);
    }

    private static List<NDArray> firsts(List<List<NDArray>> perPoint) {
        List<NDArray> out = new ArrayList<>(perPoint.size());
        for (List<NDArray> l : perPoint) {
            out.add(l.get(0));
        }
        return out;
    }

    /** What loss a gradient call differentiates: the attack's fusion, or one of the strategies' queries. */
    private sealed interface Head permits Fused, EachMember, RowMember, Weighted {}

    /** The attack's fused ensemble (its {@link EnsembleMode}); the only head without a strategy. */
    private record Fused() implements Head {}

    /** Every member's own loss, one gradient each. */
    private record EachMember() implements Head {}

    /** Row r's loss is that of member {@code memberOfImage[r % N]} alone. */
    private record RowMember(int[] memberOfImage) implements Head {}

    /** The loss of {@code sum_k weights[k][r % N] z_k}. */
    private record Weighted(float[][] weights) implements Head {}

    private static final Head FUSED = new Fused();

    /**
     * Per member, per image: the loss of the image {@code img} alone (no graph, micro-batches under
     * the row cap, each row's loss taken on its own so it does not depend on the cut).
     */
    private float[][] memberLosses(NDArray img, int[] labels0, int[] targets0) {
        int n = labels0.length;
        float[][] out = new float[ensemble.members().size()][n];
        Autograd.noGrad(() -> {
            for (int k = 0; k < ensemble.members().size(); k++) {
                Classifier member = ensemble.members().get(k);
                for (int from = 0; from < n; from += maxRows) {
                    int to = Math.min(n, from + maxRows);
                    NDArray chunk = n <= maxRows ? img : img.get(new NDIndex("{}:{}", from, to));
                    NDArray z = member.logits(chunk, null);
                    for (int r = from; r < to; r++) {
                        NDArray zr = z.get(new NDIndex("{}:{}", r - from, r - from + 1));
                        out[k][r] = attack.loss().of(zr, new int[] {labels0[r]}, new int[] {targets0[r]}).getFloat();
                    }
                }
            }
            return null;
        });
        return out;
    }

    /**
     * The gradients at {@code points}: each point's image (the filter, if any), input transforms
     * (with "copies" repetitions), ensemble, loss averaged over the copies of each image, then the
     * gradient transforms.
     *
     * <p>In three stages, so that the surrogates see every row of every point in as few forwards
     * as the row cap allows and the result does not depend on that cap:
     *
     * <ol>
     *   <li>The model inputs of all points, point by point in order (so the input transforms'
     *       draws are consumed as if each point were a call of its own): the attack's
     *       {@code copies} tile the batch (copy j of image i at row {@code j * N + i}), and
     *       transforms that make copies (SI's scales, Admix's mixes) stack them on the batch axis.
     *   <li>The loss gradient with respect to those inputs, in micro-batches of at most
     *       {@code maxRows} rows through each surrogate (one forward and one backward each). Every
     *       loss is a sum over rows, so a row's gradient is its own whatever its micro-batch; the
     *       dropout masks of all rows are drawn before the first micro-batch, member by member, as
     *       one forward would draw them.
     *   <li>The backward of stage 1 from those input gradients to the points.
     * </ol>
     *
     * SI(5) x copies=2 on 10 images is one 100-row forward per member under a cap of 100 or more;
     * VMI's 20 neighbours of 10 images are 200 rows, four forwards per member under the default
     * cap of 64 instead of 20.
     */
    private List<List<NDArray>> gradients(List<NDArray> points, Head head, NDArray lo, NDArray hi, int[] labels0,
            int[] targets0, StepContext ctx, NDManager scratch, StepObserver observer, Checkpoints.Picks picks) {
        int n = labels0.length;
        int count = points.size();
        NDArray stacked = points.get(0);
        if (count > 1) {
            stacked = NDArrays.concat(new NDList(points), 0);
            stacked.attach(scratch);
        }
        // every point: k copies of its N images
        List<NDArray> grads;
        int split = attack.chunkedTransform();
        java.util.function.Function<NDArray, NDArray> build = leaf -> modelInputs(leaf, count, n, attack.inputs(), lo, hi, ctx);
        if (split >= 0) {
            grads = chunkedGradients(stacked, split, count, head, lo, hi, labels0, targets0, ctx, scratch, observer, picks);
        } else if (head instanceof EachMember) {
            int members = ensemble.members().size();
            grads = Autograd.vectorJacobians(stacked, build, in -> {
                int k = (int) (in.getShape().get(0) / ((long) count * n));
                return memberGradients(in, k, labels0, targets0, ctx, scratch, observer);
            }, members, scratch);
        } else {
            grads = List.of(Autograd.vectorJacobian(stacked, build, in -> {
                int k = (int) (in.getShape().get(0) / ((long) count * n));
                return inputGradient(in, k, head, labels0, targets0, ctx, scratch, observer, picks);
            }, scratch));
        }
        List<List<NDArray>> out = new ArrayList<>(count);
        for (int j = 0; j < count; j++) {
            List<NDArray> perOutput = new ArrayList<>(grads.size());
            for (NDArray grad : grads) {
                NDArray g = count == 1 ? grad : grad.get(new NDIndex("{}:{}", j * n, (j + 1) * n));
                for (GradientTransform gt : attack.gradients()) {
                    g = gt.apply(g, ctx);
                }
                perOutput.add(g);
            }
            out.add(perOutput);
        }
        return out;
    }

    /**
     * The model inputs of {@code count} points stacked in {@code leaf} ({@code n} images each),
     * point by point in order (so the transforms' draws are consumed as if each point were a call
     * of its own): the image, the attack's copies tiled (copy j of image i at row
     * {@code j * N + i}), then {@code transforms}.
     */
    private NDArray modelInputs(NDArray leaf, int count, int n, List<InputTransform> transforms, NDArray lo, NDArray hi,
            StepContext ctx) {
        NDList inputs = new NDList(count);
        for (int j = 0; j < count; j++) {
            NDArray p = count == 1 ? leaf : leaf.get(new NDIndex("{}:{}", j * n, (j + 1) * n));
            NDArray in = image(p, lo, hi, ctx);
            if (attack.copies() > 1) {
                in = in.tile(new long[] {attack.copies(), 1, 1, 1});
            }
            for (InputTransform t : transforms) {
                in = t.apply(in, ctx);
            }
            inputs.add(in);
        }
        return count == 1 ? inputs.get(0) : NDArrays.concat(inputs, 0);
    }

    /**
     * {@link #gradients} when input transform {@code split} ({@code C} copies) builds its copies
     * in chunks ({@link InputTransform#copiesPerChunk}): the model inputs of a step are never all
     * alive at once, only one chunk's and its graph. In two levels of vector-Jacobian products:
     * <ol>
     *   <li>the inputs of that transform for every point, point by point: the image, the
     *       attack's copies, the transforms before it (their draws, point by point);
     *   <li>its draws for every point, point by point ({@link InputTransform#draw});
     *   <li>for every point, chunk by chunk: the chunk's copies, the transforms after it (their
     *       draws), the loss gradient at those rows under the row cap (the loss still averaged
     *       over all {@code k} copies of an image), and the chunk's backward to the inputs of
     *       step 1, summed over the chunks in order;
     *   <li>one backward of step 1's graph from those sums to the points.
     * </ol>
     * With no transforms around the chunked one and one point (OPS under MI) the draws are made
     * in the same order as by one {@code apply}; the sum over chunks is the only difference.
     */
    private List<NDArray> chunkedGradients(NDArray stacked, int split, int count, Head head, NDArray lo, NDArray hi,
            int[] labels0, int[] targets0, StepContext ctx, NDManager scratch, StepObserver observer,
            Checkpoints.Picks picks) {
        int n = labels0.length;
        List<InputTransform> inputs = attack.inputs();
        InputTransform chunked = inputs.get(split);
        List<InputTransform> before = inputs.subList(0, split);
        List<InputTransform> after = inputs.subList(split + 1, inputs.size());
        int copies = chunked.copies();
        int per = chunked.copiesPerChunk();
        int total = attack.copies();
        for (InputTransform t : inputs) {
            total *= t.copies();
        }
        int k = total;
        int outputs = head instanceof EachMember ? ensemble.members().size() : 1;
        return Autograd.vectorJacobians(stacked, leaf -> modelInputs(leaf, count, n, before, lo, hi, ctx), pre -> {
            long rowsPerPoint = pre.getShape().get(0) / count;
            List<NDArray> points = new ArrayList<>(count);
            List<InputTransform.Chunks> draws = new ArrayList<>(count);
            for (int j = 0; j < count; j++) {
                NDArray p = count == 1 ? pre : pre.get(new NDIndex("{}:{}", j * rowsPerPoint, (j + 1) * rowsPerPoint));
                points.add(p);
                draws.add(chunked.draw(p, ctx));
            }
            List<NDList> perOutput = new ArrayList<>(outputs);
            for (int o = 0; o < outputs; o++) {
                perOutput.add(new NDList(count));
            }
            for (int j = 0; j < count; j++) {
                InputTransform.Chunks chunks = draws.get(j);
                NDArray[] sums = new NDArray[outputs];
                for (int from = 0; from < copies; from += per) {
                    int a = from;
                    int b = Math.min(copies, from + per);
                    // The chunk's arrays (its copies and every intermediate of their graph, which
                    // DJL keeps until closed) in a scope of their own, freed before the next chunk.
                    try (NDManager scope = scratch.newSubManager()) {
                        List<NDArray> g = Autograd.vectorJacobians(points.get(j), leaf -> {
                            NDArray in = chunks.render(leaf, a, b);
                            for (InputTransform t : after) {
                                in = t.apply(in, ctx);
                            }
                            return in;
                        }, in -> head instanceof EachMember
                                ? memberGradients(in, k, labels0, targets0, ctx, scope, observer)
                                : List.of(inputGradient(in, k, head, labels0, targets0, ctx, scope, observer, picks)),
                                outputs, scope);
                        for (int o = 0; o < outputs; o++) {
                            NDArray sum = sums[o] == null ? g.get(o) : sums[o].add(g.get(o));
                            sum.attach(scratch);
                            if (sums[o] != null) {
                                sums[o].close();
                            }
                            sums[o] = sum;
                        }
                    }
                }
                for (int o = 0; o < outputs; o++) {
                    perOutput.get(o).add(sums[o]);
                }
            }
            List<NDArray> out = new ArrayList<>(outputs);
            for (NDList l : perOutput) {
                NDArray g = l.size() == 1 ? l.get(0) : NDArrays.concat(l, 0);
                g.attach(scratch);
                out.add(g);
            }
            return out;
        }, outputs, scratch);
    }

    /**
     * d loss_k / d in for every member k, its loss that of its own logits (unweighted), averaged
     * over each image's k copies; micro-batches of at most {@code maxRows} rows, one forward and
     * backward per member each.
     */
    private List<NDArray> memberGradients(NDArray in, int k, int[] labels0, int[] targets0, StepContext ctx,
            NDManager scratch, StepObserver observer) {
        int rows = (int) in.getShape().get(0);
        int[] y = tileLabels(labels0, rows / labels0.length);
        int[] g = tileLabels(targets0, rows / labels0.length);
        int members = ensemble.members().size();
        List<NDList> parts = new ArrayList<>(members);
        for (int i = 0; i < members; i++) {
            parts.add(new NDList());
        }
        for (int from = 0; from < rows; from += maxRows) {
            int to = Math.min(rows, from + maxRows);
            NDArray chunk = rows <= maxRows ? in : in.get(new NDIndex("{}:{}", from, to));
            int[] yc = java.util.Arrays.copyOfRange(y, from, to);
            int[] gc = java.util.Arrays.copyOfRange(g, from, to);
            for (int i = 0; i < members; i++) {
                Classifier member = ensemble.members().get(i);
                if (observer != null) {
                    observer.onForward(ctx.step(), i, member.card().name(), to - from);
                }
                parts.get(i).add(Autograd.gradient(chunk, leaf -> {
                    NDArray loss = attack.loss().of(member.logits(leaf, null), yc, gc);
                    return k == 1 ? loss : loss.div(Autograd.scalar(scratch, (float) k));
                }, scratch));
            }
        }
        List<NDArray> out = new ArrayList<>(members);
        for (NDList p : parts) {
            out.add(p.size() == 1 ? p.get(0) : NDArrays.concat(p, 0));
        }
        return out;
    }

    /**
     * The loss of the rows of {@code leaf} (rows {@code first ..} of the call) under a strategy's
     * head: each member's loss over the rows whose image it was given ({@link RowMember}), or the
     * loss of the per-image weighted logit sum ({@link Weighted}).
     */
    private NDArray headLoss(Head head, NDArray leaf, int first, int n, int[] yc, int[] gc, StepContext ctx,
            StepObserver observer) {
        int size = (int) leaf.getShape().get(0);
        if (head instanceof Weighted w) {
            NDArray z = null;
            for (int i = 0; i < ensemble.members().size(); i++) {
                Classifier member = ensemble.members().get(i);
                if (observer != null) {
                    observer.onForward(ctx.step(), i, member.card().name(), size);
                }
                float[] col = new float[size];
                for (int r = 0; r < size; r++) {
                    col[r] = w.weights()[i][(first + r) % n];
                }
                NDArray term = member.logits(leaf, null).mul(Autograd.constant(leaf.getManager(), col, new Shape(size, 1)));
                z = z == null ? term : z.add(term);
            }
            return attack.loss().of(z, yc, gc);
        }
        int[] which = ((RowMember) head).memberOfImage();
        NDArray sum = null;
        for (int i = 0; i < ensemble.members().size(); i++) {
            // The member's rows as runs of consecutive rows, so each row goes through its member only.
            NDList pieces = new NDList();
            List<Integer> picked = new ArrayList<>();
            int r = 0;
            while (r < size) {
                if (which[(first + r) % n] != i) {
                    r++;
                    continue;
                }
                int start = r;
                while (r < size && which[(first + r) % n] == i) {
                    picked.add(r);
                    r++;
                }
                pieces.add(start == 0 && r == size ? leaf : leaf.get(new NDIndex("{}:{}", start, r)));
            }
            if (pieces.isEmpty()) {
                continue;
            }
            Classifier member = ensemble.members().get(i);
            NDArray sub = pieces.size() == 1 ? pieces.get(0) : NDArrays.concat(pieces, 0);
            if (observer != null) {
                observer.onForward(ctx.step(), i, member.card().name(), (int) sub.getShape().get(0));
            }
            int[] ys = picked.stream().mapToInt(j -> yc[j]).toArray();
            int[] gs = picked.stream().mapToInt(j -> gc[j]).toArray();
            NDArray li = attack.loss().of(member.logits(sub, null), ys, gs);
            sum = sum == null ? li : sum.add(li);
        }
        return sum;
    }

    /**
     * d loss / d in for model inputs {@code in} (rows: points x k copies x N images, copy j of
     * image i of a point at row {@code j * N + i} of its block), the loss averaged over each
     * image's k copies; micro-batches of at most {@code maxRows} rows.
     */
    private NDArray inputGradient(NDArray in, int k, Head head, int[] labels0, int[] targets0, StepContext ctx,
            NDManager scratch, StepObserver observer, Checkpoints.Picks picks) {
        int rows = (int) in.getShape().get(0);
        int[] y = tileLabels(labels0, rows / labels0.length);
        int[] g = tileLabels(targets0, rows / labels0.length);
        boolean augment = siteAugments;
        // Every member's masks for all rows, drawn member by member before any forward: the draws
        // of one forward over all rows, whatever the cap cuts it into.
        List<float[][]> masks = new ArrayList<>();
        if (augment) {
            for (Classifier member : ensemble.members()) {
                masks.add(drawMasks(member, rows, ctx));
            }
        }
        NDList parts = new NDList();
        for (int from = 0; from < rows; from += maxRows) {
            int to = Math.min(rows, from + maxRows);
            int first = from;
            int size = to - from;
            Ensemble.MemberMasks chunkMasks = !augment && observer == null ? null : (i, member, r, mgr) -> {
                if (observer != null) {
                    observer.onForward(ctx.step(), i, member.card().name(), r);
                }
                return augment ? sliceMasks(masks.get(i), member, first, size, mgr) : null;
            };
            NDArray chunk = rows <= maxRows ? in : in.get(new NDIndex("{}:{}", from, to));
            int[] yc = java.util.Arrays.copyOfRange(y, from, to);
            int[] gc = java.util.Arrays.copyOfRange(g, from, to);
            // Which rows go through which checkpoint of a group this step (null: every member, every row).
            Ensemble.RowChoice choice = picks == null ? null : picks.rows(first, size, labels0.length);
            if (!(head instanceof Fused)) {
                parts.add(Autograd.gradient(chunk, leaf -> {
                    NDArray loss = headLoss(head, leaf, first, labels0.length, yc, gc, ctx, observer);
                    return k == 1 ? loss : loss.div(Autograd.scalar(scratch, (float) k));
                }, scratch));
                continue;
            }
            if (attack.loss() instanceof FeatureLoss fl) {
                int images = labels0.length;
                parts.add(Autograd.gradient(chunk, leaf -> {
                    if (observer != null) {
                        for (int i = 0; i < ensemble.members().size(); i++) {
                            observer.onForward(ctx.step(), i, ensemble.members().get(i).card().name(), size);
                        }
                    }
                    NDArray loss = fl.of(ensemble, leaf, prepared.get(), first, images, yc, gc);
                    return k == 1 ? loss : loss.div(Autograd.scalar(scratch, (float) k));
                }, scratch));
                continue;
            }
            parts.add(Autograd.gradient(chunk, leaf -> {
                NDArray loss = switch (attack.fusion()) {
                    case LOGITS -> attack.loss().of(ensemble.logits(leaf, chunkMasks, choice), yc, gc);
                    case PROBS -> attack.loss().of(ensemble.logMeanProbabilities(leaf, chunkMasks), yc, gc);
                    case LOSSES -> {
                        if (choice != null) {
                            // Each member's loss over the rows that drew it, times s_g / k.
                            NDArray sum = null;
                            for (Ensemble.Part part : ensemble.parts(leaf, chunkMasks, choice)) {
                                int[] pr = part.rows();
                                int[] ys = pr == null ? yc : java.util.Arrays.stream(pr).map(r -> yc[r]).toArray();
                                int[] gs = pr == null ? gc : java.util.Arrays.stream(pr).map(r -> gc[r]).toArray();
                                NDArray li = attack.loss().of(part.logits(), ys, gs)
                                        .mul(Autograd.scalar(scratch, (float) part.factor()));
                                sum = sum == null ? li : sum.add(li);
                            }
                            yield sum;
                        }
                        NDArray sum = null;
                        List<NDArray> zs = ensemble.memberLogits(leaf, chunkMasks);
                        for (int i = 0; i < zs.size(); i++) {
                            NDArray li = attack.loss().of(zs.get(i), yc, gc)
                                    .mul(Autograd.scalar(scratch, (float) ensemble.share(i)));
                            sum = sum == null ? li : sum.add(li);
                        }
                        yield sum;
                    }
                };
                // Numbers in the graph as arrays libtorch owns: DJL's div(Number) frees the
                // number before the backward reads it (Autograd#constant).
                return k == 1 ? loss : loss.div(Autograd.scalar(scratch, (float) k));
            }, scratch));
        }
        return parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0);
    }

    /** One member's dropout masks for {@code rows} forward rows, every augmentation's product; null if skipped. */
    private float[][] drawMasks(Classifier member, int rows, StepContext ctx) {
        if (!member.augment()) {
            return null;
        }
        List<long[]> sites = member.dropoutSites();
        float[][] product = null;
        for (ModelAugmentation a : attack.augments()) {
            float[][] m = a.masks(sites, rows, ctx.draws());
            if (product == null) {
                product = m;
            } else {
                for (int s = 0; s < m.length; s++) {
                    for (int j = 0; j < m[s].length; j++) {
                        product[s][j] *= m[s][j];
                    }
                }
            }
        }
        return product;
    }

    /** Rows {@code first .. first + size} of a member's masks, as arrays in {@code manager}. */
    private static NDList sliceMasks(float[][] all, Classifier member, int first, int size, NDManager manager) {
        if (all == null) {
            return null;
        }
        List<long[]> sites = member.dropoutSites();
        float[][] slice = new float[all.length][];
        for (int s = 0; s < all.length; s++) {
            long per = 1;
            for (long d : sites.get(s)) {
                per *= d;
            }
            slice[s] = java.util.Arrays.copyOfRange(all[s], (int) (first * per), (int) ((first + size) * per));
        }
        return ModelAugmentation.toArrays(slice, sites, size, manager);
    }

    private static int[] tileLabels(int[] labels, int k) {
        if (k == 1) {
            return labels;
        }
        int[] out = new int[labels.length * k];
        for (int j = 0; j < k; j++) {
            System.arraycopy(labels, 0, out, j * labels.length, labels.length);
        }
        return out;
    }
}
