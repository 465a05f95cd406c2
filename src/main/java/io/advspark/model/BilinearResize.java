package io.advspark.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Differentiable bilinear resize with half-pixel centres and no antialiasing, i.e. exactly
 * {@code torch.nn.functional.interpolate(x, size, mode="bilinear", align_corners=False)} (TF2
 * {@code resize(..., antialias=False)}, OpenCV {@code INTER_LINEAR}), the contract of the model
 * cards.
 *
 * <p>It runs libtorch's own {@code upsample_bilinear2d} kernel, forward and backward, through a
 * one-op TorchScript module that {@code tools/make_resize_module.py} generates and the jar carries
 * ({@code bilinear_resize.pt}). Why not DJL: DJL's {@code interpolate} always antialiases, a
 * different function (the MobileNets lose 2-4 points with it, and its gradients differ entirely).
 * Why not a resize built from DJL gathers (the first version): it is 4x slower, and its float
 * rounding differs from ATen's, which the MobileNets' ReLU6 clips amplify into 1e-3 relative
 * gradient differences against PyTorch; with ATen's kernel the gradients are bit-identical.
 */
public final class BilinearResize implements AutoCloseable {
    private static final String RESOURCE = "bilinear_resize.pt";
    private static volatile PtSymbolBlock module;

    private final NDArray size;

    /** Plans a resize from {@code inH x inW} to {@code outH x outW}; the plan lives in {@code manager}. */
    public BilinearResize(NDManager manager, int inH, int inW, int outH, int outW) {
        if (inH < 1 || inW < 1 || outH < 1 || outW < 1) {
            throw new IllegalArgumentException("resize " + inH + "x" + inW + " -> " + outH + "x" + outW);
        }
        // The size tensor stays on the CPU whatever x's device: the module reads it as two ints.
        NDManager cpu = manager.getDevice().equals(Device.cpu()) ? manager : manager.newSubManager(Device.cpu());
        this.size = cpu.create(new long[] {outH, outW});
    }

    /** Resizes {@code x} [N,C,H,W]; the result is in {@code x}'s manager and in its graph. */
    public NDArray apply(NDArray x) {
        NDArray out = IValueUtils.forward(module(), new NDList(x, size), true).head();
        out.attach(x.getManager());
        return out;
    }

    private static PtSymbolBlock module() {
        PtSymbolBlock m = module;
        if (m == null) {
            synchronized (BilinearResize.class) {
                m = module;
                if (m == null) {
                    m = load();
                    module = m;
                }
            }
        }
        return m;
    }

    /** Loaded once per JVM and never closed: it has no parameters and is shared by every thread. */
    private static PtSymbolBlock load() {
        TorchRuntime.start(0);
        PtNDManager mgr = (PtNDManager) NDManager.newBaseManager(Device.cpu(), TorchRuntime.ENGINE);
        try (InputStream in = BilinearResize.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("advspark jar is missing io/advspark/model/" + RESOURCE);
            }
            // The path loader honours trainParam (no InferenceMode), which backward needs.
            Path tmp = Files.createTempFile("advspark-resize-", ".pt");
            try {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                PtSymbolBlock block = JniUtils.loadModule(mgr, tmp, false, new String[0], new String[0], true);
                JniUtils.enableInferenceMode(block);
                return block;
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the resize module " + RESOURCE, e);
        }
    }

    @Override
    public void close() {
        size.close();
    }
}
