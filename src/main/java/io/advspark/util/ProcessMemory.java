package io.advspark.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's resident memory and the machine's memory, read from Linux's {@code /proc}.
 * libtorch allocates its CPU tensors with malloc, outside the JVM's view, and keeps no statistics
 * of its own on the CPU ({@code memory_stats} is CUDA only): the kernel's accounting is the one
 * figure that sees them. Every method answers -1 (or false) where {@code /proc} is absent.
 */
public final class ProcessMemory {
    private ProcessMemory() {}

    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");
    private static final Path MEMINFO = Path.of("/proc/meminfo");

    /** Resident memory now (VmRSS), in bytes, or -1. */
    public static long residentBytes() {
        return kib(STATUS, "VmRSS:");
    }

    /** Peak resident memory since the start or the last {@link #resetPeak()} (VmHWM), in bytes, or -1. */
    public static long peakBytes() {
        return kib(STATUS, "VmHWM:");
    }

    /**
     * Resets the peak resident memory to the current one (writes 5 to /proc/self/clear_refs,
     * Linux 4.0+); false where that is not possible.
     */
    public static boolean resetPeak() {
        try {
            Files.writeString(CLEAR_REFS, "5");
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /**
     * Gives the pages of glibc's free blocks back to the kernel ({@code malloc_trim(0)}, every
     * arena), so that the resident memory is what is in use; false where there is no glibc's
     * {@code malloc_trim} (called through JNA, which DJL brings).
     */
    public static boolean trimMalloc() {
        try {
            com.sun.jna.Function trim = com.sun.jna.NativeLibrary.getInstance("c").getFunction("malloc_trim");
            trim.invokeInt(new Object[] {0L});
            return true;
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** The machine's memory not in use and reclaimable without swapping (MemAvailable), in bytes, or -1. */
    public static long availableBytes() {
        return kib(MEMINFO, "MemAvailable:");
    }

    /** The machine's physical memory (MemTotal), in bytes, or -1. */
    public static long totalBytes() {
        return kib(MEMINFO, "MemTotal:");
    }

    private static long kib(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(key)) {
                    String v = line.substring(key.length()).trim();
                    int sp = v.indexOf(' ');
                    return Long.parseLong(sp < 0 ? v : v.substring(0, sp)) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
