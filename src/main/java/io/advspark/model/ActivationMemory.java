package io.advspark.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.advspark.util.ProcessMemory;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Measures a surrogate's memory per row of an attack's forward and backward, when the round's
 * models load on the driver (a {@link ModelLoader.Check}), for the memory estimate of the round
 * ({@code plan.MemoryEstimate}).
 *
 * <p>How: one gradient of the summed logits with respect to the input (what the engine computes:
 * the autograd graph of a forward, then its backward) at {@value #SMALL_ROWS} and at
 * {@value #LARGE_ROWS} rows, each time reading how far the process's peak resident memory
 * (VmHWM, reset before each probe through /proc/self/clear_refs) rose above its resident memory
 * before the first probe. The figure per row is the difference divided by the rows between them:
 * one-off costs (libtorch's thread pools and kernel caches on the first backward) are in both and
 * cancel. Why resident memory and not libtorch's own figures: on the CPU libtorch keeps no
 * allocation statistics (its {@code memory_stats} are CUDA's), and DJL exposes neither the saved
 * tensors of a graph nor the TorchScript graph's intermediate shapes; the kernel's count sees
 * every allocation, libtorch's, oneDNN's and glibc's overheads included, which is what runs out.
 * Why the peak of each probe against the same start and in increasing size: glibc keeps freed
 * blocks for reuse, so the larger probe reuses the smaller one's memory and its peak is still its
 * own need. Rows are multiples of 4 because every forward is padded to that ({@link Classifier}).
 *
 * <p>Noise: other threads of the process allocating during a probe raise its peak (the estimate
 * errs high); where the difference comes out at or below zero (tiny models, within the noise of
 * page-sized allocations) the larger probe's growth divided by its rows is used, an upper bound.
 * Where /proc is unavailable (not Linux) nothing is measured: {@link #bytesPerRow} answers -1.
 */
public final class ActivationMemory implements ModelLoader.Check {
    /** Rows of the first probe. */
    public static final int SMALL_ROWS = 4;
    /** Rows of the second probe. */
    public static final int LARGE_ROWS = 8;

    private final Map<String, Long> byPath = new LinkedHashMap<>();

    @Override
    public void check(ModelSource spec, Classifier model, NDManager manager) {
        byPath.put(spec.path(), measure(model, manager));
    }

    /** The measured bytes per row of the model read from {@code path}, or -1 if not measured. */
    public long bytesPerRow(String path) {
        return byPath.getOrDefault(path, -1L);
    }

    /** Bytes per row of {@code model}'s forward and backward, or -1 where it cannot be measured. */
    public static long measure(Classifier model, NDManager parent) {
        long before = ProcessMemory.residentBytes();
        if (before < 0 || !ProcessMemory.resetPeak()) {
            return -1;
        }
        long small = growth(model, parent, SMALL_ROWS, before);
        long large = growth(model, parent, LARGE_ROWS, before);
        if (small < 0 || large < 0) {
            return -1;
        }
        long perRow = (large - small) / (LARGE_ROWS - SMALL_ROWS);
        return perRow > 0 ? perRow : Math.max(0, large) / LARGE_ROWS;
    }

    /** Peak resident growth above {@code before} of one gradient at {@code rows} rows. */
    private static long growth(Classifier model, NDManager parent, int rows, long before) {
        ModelCard card = model.card();
        try (NDManager m = parent.newSubManager()) {
            // Any values do: the graph's memory depends on the shapes only.
            NDArray x = m.full(new Shape(rows, 3, card.inputHeight(), card.inputWidth()), 0.5f);
            if (!ProcessMemory.resetPeak()) {
                return -1;
            }
            Autograd.gradient(x, leaf -> model.logits(leaf).sum(), m);
        }
        long peak = ProcessMemory.peakBytes();
        return peak < 0 ? -1 : Math.max(0, peak - before);
    }
}
