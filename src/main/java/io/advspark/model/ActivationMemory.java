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
 * (VmHWM, reset through /proc/self/clear_refs) rose above its resident memory just before. The
 * figure per row is the difference divided by the rows between them, so what a gradient costs
 * whatever its rows cancels. One unmeasured gradient at {@value #SMALL_ROWS} rows comes first:
 * libtorch's one-off costs (thread pools, kernel caches) stay resident after it and would
 * otherwise fall on the first probe only.
 *
 * <p>Why resident memory and not libtorch's own figures: on the CPU libtorch keeps no allocation
 * statistics (its {@code memory_stats} are CUDA's), and DJL exposes neither the saved tensors of a
 * graph nor the TorchScript graph's intermediate shapes; the kernel's count sees every allocation,
 * libtorch's, oneDNN's and glibc's overheads included, which is what runs out.
 *
 * <p>Why {@code malloc_trim(0)} before each probe (glibc, called through JNA): glibc keeps freed
 * blocks resident for reuse, so without it a probe's growth depends on what the process freed
 * before (model loading, an earlier probe): untrimmed, ResNet-20 measured 5.9 MiB per row in a
 * fresh test JVM and 2.9 MiB in a round's driver; trimmed, 2.6 to 3.1 and 2.2 to 3.0 MiB. The trim
 * gives free blocks' pages back to the kernel, so every page a probe touches counts. Where it
 * cannot be called (not glibc) the probes are measured against the resident memory before the
 * first one instead.
 *
 * <p>Noise: other threads of the process allocating during a probe raise its peak; single pairs of
 * probes spread by about a third in a round's driver (ResNet-20: 2.0 to 2.9 MiB over five rounds),
 * so {@value #REPEATS} pairs are measured and the median taken (which still gave 2.2 to 3.0 MiB over
 * six rounds: the spread is between rounds more than within one). Where a difference comes out at
 * or below zero the larger probe's growth divided by its rows is used, an upper bound. Where /proc
 * is unavailable (not Linux) nothing is measured: {@link #bytesPerRow} answers -1. Rows are
 * multiples of 4 because every forward is padded to that ({@link Classifier}).
 */
public final class ActivationMemory implements ModelLoader.Check {
    /** Rows of the first probe. */
    public static final int SMALL_ROWS = 4;
    /** Rows of the second probe. */
    public static final int LARGE_ROWS = 8;
    /** Pairs of probes; the median of their figures is taken. */
    public static final int REPEATS = 3;

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
        if (ProcessMemory.residentBytes() < 0 || !ProcessMemory.resetPeak()) {
            return -1;
        }
        growth(model, parent, SMALL_ROWS, -1); // warm-up
        long common = ProcessMemory.residentBytes();
        long[] perRow = new long[REPEATS];
        for (int i = 0; i < REPEATS; i++) {
            long small = growth(model, parent, SMALL_ROWS, common);
            long large = growth(model, parent, LARGE_ROWS, common);
            if (small < 0 || large < 0) {
                return -1;
            }
            long slope = (large - small) / (LARGE_ROWS - SMALL_ROWS);
            perRow[i] = slope > 0 ? slope : large / LARGE_ROWS;
        }
        java.util.Arrays.sort(perRow);
        return perRow[REPEATS / 2];
    }

    /**
     * Peak resident growth of one gradient at {@code rows} rows: above the resident memory after
     * a malloc_trim, or above {@code fallback} where glibc's trim is unavailable.
     */
    private static long growth(Classifier model, NDManager parent, int rows, long fallback) {
        ModelCard card = model.card();
        long before;
        try (NDManager m = parent.newSubManager()) {
            // Any values do: the graph's memory depends on the shapes only.
            NDArray x = m.full(new Shape(rows, 3, card.inputHeight(), card.inputWidth()), 0.5f);
            before = ProcessMemory.trimMalloc() ? ProcessMemory.residentBytes() : fallback;
            if (!ProcessMemory.resetPeak()) {
                return -1;
            }
            Autograd.gradient(x, leaf -> model.logits(leaf).sum(), m);
        }
        long peak = ProcessMemory.peakBytes();
        return peak < 0 || before < 0 ? -1 : Math.max(0, peak - before);
    }
}
