package io.advspark.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import io.advspark.util.Messages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A TorchScript classifier behind a differentiable wrapper that makes it speak the dataset's
 * language: pixels in [0,1] at the dataset's resolution in, logits over the dataset's classes
 * out. The wrapper does, in this order and all inside the autograd graph:
 *
 * <ol>
 *   <li>bilinear resize ({@link BilinearResize}: half-pixel centres, no antialiasing, {@code F.interpolate(...,
 *       align_corners=False)}) to the card's input size, skipped when sizes match;
 *   <li>normalisation {@code (x - mean) / std};
 *   <li>the model, in eval mode (BatchNorm uses running statistics, dropout is off);
 *   <li>selection of the dataset's columns {@code [label_offset, label_offset + dataset_classes)},
 *       so a 1001-output TF-slim model agrees with 1000-class labels.
 * </ol>
 *
 * <p><b>Dropout sites.</b> The module stays in eval mode for good. A model that supports the
 * attack's dropout augmentation exports two stateless TorchScript methods besides {@code forward}
 * (see {@code tools/ghost_model.py}): {@code dropout_shapes(x) -> List[List[int]]}, the per-image
 * shape of the activation at every dropout site, and {@code forward_masked(x, masks: List[Tensor])},
 * {@code forward} with the activation at site k multiplied by {@code masks[k]}. Why not
 * {@code module.train()} (DJL's {@code JniUtils.enableTrainingMode}): it is the only mode switch
 * DJL 0.36 exposes, it acts on the whole module, so it would also switch every BatchNorm to batch
 * statistics (and update its running statistics), and it is shared state, while one loaded
 * module serves concurrent tasks and the eval-mode predictions of the same batch. A traced model
 * (torch.jit.trace) has neither method: its dropout, if any, is frozen in the mode it was traced in.
 */
public final class Classifier implements AutoCloseable {
    /** TorchScript method listing the dropout sites' shapes (see the class comment). */
    public static final String DROPOUT_SHAPES = "dropout_shapes";
    /** TorchScript method running forward with masks at the dropout sites. */
    public static final String FORWARD_MASKED = "forward_masked";
    private final ModelCard card;
    private final double weight;
    private final NDManager manager;
    private final PtSymbolBlock block;
    private final NDArray mean;
    private final NDArray std;
    private final boolean augment;
    /** The checkpoint group (see {@link ModelBundle#group}), or null. */
    private final String group;
    /** Per-image activation shapes at the dropout sites at the card's input size, once known. */
    private volatile List<long[]> dropoutSites;
    /** Resize plans by input size; typically one per dataset. */
    private final java.util.Map<Long, BilinearResize> resizes = new java.util.concurrent.ConcurrentHashMap<>();

    private Classifier(ModelCard card, double weight, boolean augment, String group, NDManager manager,
            PtSymbolBlock block) {
        this.card = card;
        this.group = group;
        this.weight = weight;
        this.augment = augment;
        this.manager = manager;
        this.block = block;
        this.mean = manager.create(card.mean(), new Shape(1, 3, 1, 1));
        this.std = manager.create(card.std(), new Shape(1, 3, 1, 1));
    }

    /** Loads a bundle's TorchScript on the CPU for input gradients (frozen parameters, eval mode). */
    public static Classifier load(ModelBundle bundle) throws IOException {
        return load(bundle, Device.cpu());
    }

    /**
     * Loads a bundle's TorchScript on {@code device} for input gradients (frozen parameters, eval
     * mode); its inputs must live on that device too (see {@link Devices}).
     */
    public static Classifier load(ModelBundle bundle, Device device) throws IOException {
        TorchRuntime.start(0);
        PtNDManager mgr = (PtNDManager) NDManager.newBaseManager(device, TorchRuntime.ENGINE);
        // The path loader is the one that honours trainParam; without it the module is loaded
        // under InferenceMode and backward fails ("Inference tensors cannot be saved").
        Path tmp = Files.createTempFile("advspark-" + bundle.card().name() + "-", ".pt");
        try {
            Files.write(tmp, bundle.torchScript());
            PtSymbolBlock block;
            try {
                // mapLocation moves the parameters to the manager's device (a GPU); on the CPU it is a no-op.
                block = JniUtils.loadModule(mgr, tmp, !device.equals(Device.cpu()), new String[0], new String[0], true);
            } catch (RuntimeException e) {
                mgr.close();
                throw new IOException(bundle.uri() + ": not a loadable TorchScript model: " + Messages.firstLine(e.getMessage()), e);
            }
            block.freezeParameters(true);
            JniUtils.enableInferenceMode(block); // module.eval(): BN running stats, no dropout
            return new Classifier(bundle.card(), bundle.weight(), bundle.augment(), bundle.group(), mgr, block);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public ModelCard card() {
        return card;
    }

    public double weight() {
        return weight;
    }

    /** Whether the attack's model augmentations ({@code attack.augment}) apply to this model. */
    public boolean augment() {
        return augment;
    }

    /** The checkpoint group this model belongs to (the group entry's path), or null for a model of its own. */
    public String group() {
        return group;
    }

    /** The module's TorchScript methods (a traced model has only {@code forward}). */
    public List<String> methods() {
        List<String> m = methodNames;
        if (m == null) {
            m = List.of(JniUtils.getMethodNames(block));
            methodNames = m;
        }
        return m;
    }

    /** The module's method names, asked once (a loaded module's methods never change). */
    private volatile List<String> methodNames;

    /**
     * Whether the module exports the dropout-site methods ({@code dropout_shapes} and
     * {@code forward_masked}); asks only for its method names, runs nothing.
     */
    public boolean hasDropoutSites() {
        List<String> methods = methods();
        return methods.contains(DROPOUT_SHAPES) && methods.contains(FORWARD_MASKED);
    }

    /**
     * Per-image shapes ({@code [C, H, W]} or {@code [F]}) of the activations at the model's dropout
     * sites for input at the card's size, in the order {@link #logits(NDArray, NDList)} consumes
     * masks; null if the model does not export {@code dropout_shapes} and {@code forward_masked}.
     * Asked from the model once, then cached.
     *
     * @throws IllegalStateException if the model has the methods but {@code dropout_shapes} fails
     */
    public List<long[]> dropoutSites() {
        List<long[]> sites = dropoutSites;
        if (sites != null) {
            return sites.isEmpty() ? null : sites;
        }
        synchronized (this) {
            if (dropoutSites == null) {
                dropoutSites = querySites();
            }
            return dropoutSites.isEmpty() ? null : dropoutSites;
        }
    }

    private List<long[]> querySites() {
        if (!hasDropoutSites()) {
            return List.of();
        }
        try (NDManager m = manager.newSubManager()) {
            PtNDArray probe = (PtNDArray) m.zeros(new Shape(1, 3, card.inputHeight(), card.inputWidth()));
            // runMethod runs without a graph: shapes only.
            try (IValue in = IValue.from(probe);
                    IValue out = IValueUtils.runMethod(block, DROPOUT_SHAPES, in)) {
                List<long[]> sites = new ArrayList<>();
                for (IValue s : out.toIValueArray()) {
                    sites.add(s.toLongArray());
                    s.close();
                }
                if (sites.isEmpty()) {
                    throw new IllegalStateException(DROPOUT_SHAPES + " returned no sites");
                }
                return List.copyOf(sites);
            }
        } catch (RuntimeException e) {
            throw new IllegalStateException("model " + card.name() + ": " + DROPOUT_SHAPES + " failed: "
                    + Messages.firstLine(e.getMessage()), e);
        }
    }

    /** Raw model output for already preprocessed input (used to check the card): the logits, output 0. */
    public NDArray rawForward(NDArray input) {
        return rawForwardAll(input, null).head();
    }

    /**
     * Raw model output with the activation at dropout site k multiplied by {@code masks.get(k)}
     * (shape {@code [N, *dropoutSites().get(k)]}), through {@code forward_masked}; the module stays
     * in eval mode. Differentiable with respect to {@code input}; the masks are constants.
     */
    public NDArray rawForward(NDArray input, NDList masks) {
        return rawForwardAll(input, masks).head();
    }

    /**
     * Every output of the module for already preprocessed input: the logits, then (a model
     * exported with taps, whose TorchScript returns a tuple) each tap in the card's order. DJL
     * flattens a returned tuple of tensors into the list.
     */
    public NDList rawForwardAll(NDArray input, NDList masks) {
        if (masks == null) {
            return IValueUtils.forward(block, new NDList(input), true);
        }
        // DJL's NDList conventions: arrays named "name[]" travel as one List[Tensor] argument, an
        // array named "module_method:m" selects method m (and is not passed).
        NDList in = new NDList(masks.size() + 2);
        in.add(input);
        for (NDArray mask : masks) {
            mask.setName("masks[]");
            in.add(mask);
        }
        NDArray method = input.getManager().create(0f);
        method.setName("module_method:" + FORWARD_MASKED);
        in.add(method);
        return IValueUtils.forward(block, in, true);
    }

    /**
     * Logits over the dataset's classes for pixels {@code x} in [0,1], shape [N,3,H,W]; the result
     * lives in {@code x}'s manager and is differentiable with respect to {@code x}.
     */
    public NDArray logits(NDArray x) {
        return logits(x, null);
    }

    /** Every forward runs on a multiple of this many rows, padded with repeats (see {@link #logits(NDArray, NDList)}). */
    static final int MIN_ROWS = 4;

    /** {@link #MIN_ROWS} for callers that batch rows themselves (other forwards are padded anyway). */
    public static final int MIN_FORWARD_ROWS = MIN_ROWS;

    /**
     * As {@link #logits(NDArray)}, with the model's dropout sites multiplied by {@code masks}
     * (see {@link #rawForward(NDArray, NDList)}); null masks give the plain eval-mode forward.
     * For a model with taps this is output 0 of the same forward (the taps are dropped).
     */
    public NDArray logits(NDArray x, NDList masks) {
        return forward(x, masks).logits();
    }

    /**
     * The dataset logits and the card's taps of one forward, all in {@code x}'s manager and in
     * the autograd graph: a feature-level loss built on a tap is differentiated with respect to
     * {@code x} through the same graph as the logits (and through the model's exported backward
     * change, if any).
     *
     * @param logits as {@link #logits(NDArray)}
     * @param taps tap name to activation {@code [N, *tap.shape()]}, in the card's order (empty for a
     *     plain model)
     */
    public record Features(NDArray logits, java.util.Map<String, NDArray> taps) {
        /** The activation of tap {@code name}; fails naming the taps there are. */
        public NDArray tap(String name) {
            NDArray a = taps.get(name);
            if (a == null) {
                throw new IllegalArgumentException("no tap '" + name + "' (this model has " + taps.keySet() + ")");
            }
            return a;
        }
    }

    /** Logits and taps of pixels {@code x} in [0,1] (see {@link Features}). */
    public Features features(NDArray x) {
        return forward(x, null);
    }

    /** Prefix of the TorchScript methods {@code from_tap_<k>(x, a)} of a tapped export (see {@link #logitsFromTap}). */
    public static final String FROM_TAP = "from_tap_";

    /**
     * Dataset logits of pixels {@code x} with the activation at tap {@code tap} replaced by
     * {@code activation} ({@code [N, *tap.shape()]}): the exporter's {@code from_tap_<k>(x, a)},
     * k the tap's position in the card. In the graph of both {@code x} and {@code activation}, so
     * a loss can be differentiated with respect to a tap (make the activation a leaf) or carry a
     * changed activation on (ILPD). Feeding a tap its own value gives {@link #logits(NDArray)}
     * exactly (the exporter checks it).
     *
     * @throws IllegalArgumentException naming the taps there are, or asking for a re-export when
     *     the file predates these methods
     */
    public NDArray logitsFromTap(NDArray x, String tap, NDArray activation) {
        List<ModelCard.Tap> taps = card.taps();
        int k = -1;
        for (int i = 0; i < taps.size(); i++) {
            if (taps.get(i).name().equals(tap)) {
                k = i;
            }
        }
        if (k < 0) {
            throw new IllegalArgumentException("model " + card.name() + " has no tap '" + tap + "' (its card lists "
                    + taps.stream().map(ModelCard.Tap::name).toList() + ")");
        }
        String method = FROM_TAP + k;
        if (!methods().contains(method)) {
            throw new IllegalArgumentException("model " + card.name() + " has no method " + method
                    + ": re-export it with tools/export_model.py --taps (files exported before feature losses lack it)");
        }
        Shape s = x.getShape();
        int rows = (int) s.get(0);
        int padded = (rows + MIN_ROWS - 1) / MIN_ROWS * MIN_ROWS;
        NDArray in = prepare(padRows(x, rows, padded), s);
        NDList args = new NDList(3);
        args.add(in);
        args.add(padRows(activation, rows, padded));
        NDArray marker = in.getManager().create(0f);
        marker.setName("module_method:" + method);
        args.add(marker);
        NDList outs = IValueUtils.forward(block, args, true);
        NDArray raw = rows(outs.head(), rows, padded, x);
        return card.labelOffset() == 0 && card.datasetClasses() == card.numClasses() ? raw
                : raw.get(new NDIndex(":, {}:{}", card.labelOffset(), card.labelOffset() + card.datasetClasses()));
    }

    /** Resize (if needed) and normalisation of already padded pixels, as every forward does. */
    private NDArray prepare(NDArray in, Shape s) {
        if (s.get(2) != card.inputHeight() || s.get(3) != card.inputWidth()) {
            int inH = (int) s.get(2);
            int inW = (int) s.get(3);
            BilinearResize plan = resizes.computeIfAbsent(((long) inH << 32) | inW,
                    k -> new BilinearResize(manager, inH, inW, card.inputHeight(), card.inputWidth()));
            in = plan.apply(in);
        }
        return in.sub(mean).div(std);
    }

    private Features forward(NDArray x, NDList masks) {
        Shape s = x.getShape();
        // libtorch's CPU kernels give a row other float sums depending on where it falls in the
        // batch: measured on the demo CNNs, a row in a full group of 4 comes out the same in any
        // batch, a row in a trailing partial group (batches of 1 or 2, the 5th row of a batch of
        // 5, rows 5-7 of a batch of 7) does not. An image's result then depended on its batch-mates
        // and on the row cap's micro-batches. Every forward is padded to a multiple of MIN_ROWS
        // rows with repeats of its first rows; only the real rows are kept (the padding gets no
        // gradient).
        int rows = (int) s.get(0);
        int padded = (rows + MIN_ROWS - 1) / MIN_ROWS * MIN_ROWS;
        NDArray in = padRows(x, rows, padded);
        if (masks != null && padded != rows) {
            NDList m = new NDList(masks.size());
            for (NDArray k : masks) {
                m.add(padRows(k, rows, padded));
            }
            masks = m;
        }
        in = prepare(in, s);
        NDList outs = rawForwardAll(in, masks);
        List<ModelCard.Tap> taps = card.taps();
        if (outs.size() != 1 + taps.size()) {
            throw new IllegalStateException("model " + card.name() + " returned " + outs.size()
                    + " output(s) but its card lists " + taps.size() + " tap(s) (expected the logits and one per tap)");
        }
        NDArray raw = rows(outs.get(0), rows, padded, x);
        if (raw.getShape().dimension() != 2 || raw.getShape().get(1) != card.numClasses()) {
            throw new IllegalStateException(
                    "model " + card.name() + " returned shape " + raw.getShape() + " but its card says num_classes="
                            + card.numClasses());
        }
        java.util.Map<String, NDArray> named = new java.util.LinkedHashMap<>();
        for (int i = 0; i < taps.size(); i++) {
            named.put(taps.get(i).name(), rows(outs.get(i + 1), rows, padded, x));
        }
        NDArray logits = card.labelOffset() == 0 && card.datasetClasses() == card.numClasses() ? raw
                : raw.get(new NDIndex(":, {}:{}", card.labelOffset(), card.labelOffset() + card.datasetClasses()));
        return new Features(logits, java.util.Collections.unmodifiableMap(named));
    }

    /** The real rows of a padded output, in {@code x}'s manager. */
    private static NDArray rows(NDArray out, int rows, int padded, NDArray x) {
        NDArray r = padded != rows ? out.get(new NDIndex("0:{}", rows)) : out;
        r.attach(x.getManager());
        return r;
    }

    /**
     * {@code a} with its first rows repeated after it up to {@code padded} rows, if its first axis
     * has {@code rows} rows; else {@code a} (masks without a batch axis).
     */
    static NDArray padRows(NDArray a, int rows, int padded) {
        if (padded == rows || a.getShape().dimension() == 0 || a.getShape().get(0) != rows) {
            return a;
        }
        NDList parts = new NDList();
        parts.add(a);
        for (int left = padded - rows; left > 0; left -= rows) {
            parts.add(left >= rows ? a : a.get(new NDIndex("0:{}", left)));
        }
        return NDArrays.concat(parts, 0);
    }

    @Override
    public void close() {
        resizes.values().forEach(BilinearResize::close);
        block.close();
        manager.close();
    }

    /** Top-k column indices (0-based dataset labels), highest logit first, ties to the lower index. */
    public int[][] topK(float[] pixels, long[] shape, int k, NDManager parent) {
        try (NDManager m = parent.newSubManager()) {
            NDArray x = m.create(pixels, new Shape(shape));
            float[] z = Autograd.noGrad(() -> logits(x).toFloatArray());
            return topKRows(z, (int) shape[0], k);
        }
    }

    /**
     * Top-k column indices of each row of a row-major {@code rows x c} score matrix, highest first,
     * ties to the lower index (logits here; vote counts for randomized smoothing).
     */
    public static int[][] topKRows(float[] z, int rows, int k) {
        int c = z.length / rows;
        int[][] out = new int[rows][];
        for (int i = 0; i < rows; i++) {
            int[] best = new int[k];
            Arrays.fill(best, -1);
            for (int j = 0; j < c; j++) {
                float v = z[i * c + j];
                int pos = k;
                while (pos > 0 && (best[pos - 1] < 0 || z[i * c + best[pos - 1]] < v)) {
                    pos--;
                }
                if (pos < k) {
                    System.arraycopy(best, pos, best, pos + 1, k - pos - 1);
                    best[pos] = j;
                }
            }
            out[i] = best;
        }
        return out;
    }
}
