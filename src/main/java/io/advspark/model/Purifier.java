package io.advspark.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import io.advspark.util.Messages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A loaded purifier: a TorchScript module mapping images in [0,1], shape {@code [N,3,H,W]}, to
 * images of the same shape in [0,1] (NRP, a diffusion purifier, a denoiser), run in eval mode
 * without a graph. Its contract is checked once on the driver ({@link ModelLoader#loadPurifier});
 * at run time only the shape is checked again (cheap, and a mismatch would silently mislabel rows).
 */
public final class Purifier implements AutoCloseable {
    private final String uri;
    private final NDManager manager;
    private final PtSymbolBlock block;

    private Purifier(String uri, NDManager manager, PtSymbolBlock block) {
        this.uri = uri;
        this.manager = manager;
        this.block = block;
    }

    /** Loads a checked purifier on {@code device}. */
    public static Purifier load(PurifierBundle bundle, Device device) throws IOException {
        TorchRuntime.start(0);
        PtNDManager mgr = (PtNDManager) NDManager.newBaseManager(device, TorchRuntime.ENGINE);
        Path tmp = Files.createTempFile("advspark-purifier-", ".pt");
        try {
            Files.write(tmp, bundle.torchScript());
            PtSymbolBlock block;
            try {
                block = JniUtils.loadModule(mgr, tmp, !device.equals(Device.cpu()), new String[0], new String[0], false);
            } catch (RuntimeException e) {
                mgr.close();
                throw new IOException("purifier " + bundle.uri() + ": not a loadable TorchScript model: "
                        + Messages.firstLine(e.getMessage()), e);
            }
            JniUtils.enableInferenceMode(block); // module.eval()
            return new Purifier(bundle.uri(), mgr, block);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public String uri() {
        return uri;
    }

    /**
     * The purified images, in {@code x}'s manager. Batches run padded to a multiple of
     * {@link Classifier#MIN_ROWS} rows, as the classifier's, so an image's output does not depend on its batch.
     *
     * @throws IllegalStateException naming the file if the output's shape is not the input's
     */
    public NDArray apply(NDArray x) {
        return Autograd.noGrad(() -> {
            int rows = (int) x.getShape().get(0);
            int padded = (rows + Classifier.MIN_ROWS - 1) / Classifier.MIN_ROWS * Classifier.MIN_ROWS;
            NDArray in = Classifier.padRows(x, rows, padded);
            NDArray out;
            try {
                out = IValueUtils.forward(block, new NDList(in), false).head();
            } catch (RuntimeException e) {
                throw new IllegalStateException("purifier " + uri + " fails on a " + in.getShape() + " input: "
                        + Messages.firstLine(e.getMessage()), e);
            }
            if (padded != rows) {
                out = out.get(new NDIndex("0:{}", rows));
            }
            out.attach(x.getManager());
            if (!out.getShape().equals(x.getShape())) {
                throw new IllegalStateException("purifier " + uri + " returned shape " + out.getShape() + " for input "
                        + x.getShape() + ": a purifier must return its input's shape");
            }
            return out;
        });
    }

    @Override
    public void close() {
        block.close();
        manager.close();
    }
}
