package io.advspark.model;

import io.advspark.util.Messages;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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
 */
public final class Classifier implements AutoCloseable {
    private final ModelCard card;
    private final double weight;
    private final NDManager manager;
    private final PtSymbolBlock block;
    private final NDArray mean;
    private final NDArray std;
    /** Resize plans by input size; typically one per dataset. */
    private final java.util.Map<Long, BilinearResize> resizes = new java.util.concurrent.ConcurrentHashMap<>();

    private Classifier(ModelCard card, double weight, NDManager manager, PtSymbolBlock block) {
        this.card = card;
        this.weight = weight;
        this.manager = manager;
        this.block = block;
        this.mean = manager.create(card.mean(), new Shape(1, 3, 1, 1));
        this.std = manager.create(card.std(), new Shape(1, 3, 1, 1));
    }

    /** Loads a bundle's TorchScript for input gradients (frozen parameters, eval mode). */
    public static Classifier load(ModelBundle bundle) throws IOException {
        TorchRuntime.start(0);
        PtNDManager mgr = (PtNDManager) NDManager.newBaseManager(Device.cpu(), "PyTorch");
        // The path loader is the one that honours trainParam; without it the module is loaded
        // under InferenceMode and backward fails ("Inference tensors cannot be saved").
        Path tmp = Files.createTempFile("advspark-" + bundle.card().name() + "-", ".pt");
        try {
            Files.write(tmp, bundle.torchScript());
            PtSymbolBlock block;
            try {
                block = JniUtils.loadModule(mgr, tmp, false, new String[0], new String[0], true);
            } catch (RuntimeException e) {
                mgr.close();
                throw new IOException(bundle.uri() + ": not a loadable TorchScript model: " + Messages.firstLine(e.getMessage()), e);
            }
            block.freezeParameters(true);
            JniUtils.enableInferenceMode(block); // module.eval(): BN running stats, no dropout
            return new Classifier(bundle.card(), bundle.weight(), mgr, block);
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

    /** Raw model output for already preprocessed input (used to check the card). */
    public NDArray rawForward(NDArray input) {
        NDList out = IValueUtils.forward(block, new NDList(input), true);
        return out.head();
    }

    /**
     * Logits over the dataset's classes for pixels {@code x} in [0,1], shape [N,3,H,W]; the result
     * lives in {@code x}'s manager and is differentiable with respect to {@code x}.
     */
    public NDArray logits(NDArray x) {
        Shape s = x.getShape();
        NDArray in = x;
        if (s.get(2) != card.inputHeight() || s.get(3) != card.inputWidth()) {
            int inH = (int) s.get(2);
            int inW = (int) s.get(3);
            BilinearResize plan = resizes.computeIfAbsent(((long) inH << 32) | inW,
                    k -> new BilinearResize(manager, inH, inW, card.inputHeight(), card.inputWidth()));
            in = plan.apply(x);
        }
        in = in.sub(mean).div(std);
        NDArray raw = rawForward(in);
        raw.attach(x.getManager());
        if (raw.getShape().dimension() != 2 || raw.getShape().get(1) != card.numClasses()) {
            throw new IllegalStateException(
                    "model " + card.name() + " returned shape " + raw.getShape() + " but its card says num_classes="
                            + card.numClasses());
        }
        if (card.labelOffset() == 0 && card.datasetClasses() == card.numClasses()) {
            return raw;
        }
        return raw.get(new NDIndex(":, {}:{}", card.labelOffset(), card.labelOffset() + card.datasetClasses()));
    }

    @Override
    public void close() {
        resizes.values().forEach(BilinearResize::close);
        block.close();
        manager.close();
    }

}
