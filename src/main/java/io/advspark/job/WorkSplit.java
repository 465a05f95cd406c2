package io.advspark.job;

import java.util.ArrayList;
import java.util.List;

/**
 * How a round's work list becomes Spark partitions when {@code dataset.partitions = 0}: one
 * batch per partition, and a tail of shrinking partitions.
 *
 * <ul>
 *   <li><b>Whole batches.</b> A partition of 1.2 batches runs one full batch and one of a few
 *       images, and a small batch costs a GPU nearly what a full one does (even on this CPU, 6
 *       CIFAR images take 0.087 s each against 0.073 s in a batch of 32). Partitions of at most
 *       one batch, of equal size, never run a partial batch before the tail.
 *   <li><b>One batch per task.</b> Spark hands the next partition to whichever slot frees up, so a
 *       slow GPU takes fewer batches and a lost executor costs the batches it was running. A task
 *       costs little more than its batch: models are cached per executor JVM and device, and each
 *       (attack, batch) is committed on its own anyway.
 *   <li><b>Shrinking tail.</b> Guided self-scheduling (Polychronopoulos and Kuck, IEEE Trans.
 *       Computers 1987): once fewer than {@code 2 x slots} batches remain, each partition takes
 *       {@code remaining / (2 x slots)} items, down to an eighth of a batch or 4 images. Spark launches
 *       partitions in index order, so the small ones run last, and slots finish within a small
 *       partition of each other instead of one slot running a whole batch while the others idle.
 *       A round with many attack configurations needs this most: a task runs its batch through
 *       every attack, so one batch is minutes of work.
 * </ul>
 *
 * With one slot nothing is gained by shrinking, so every partition is one batch.
 */
final class WorkSplit {
    private WorkSplit() {}

    /** Partition sizes, in work items, in launch order; they sum to {@code items}. */
    static List<Integer> sizes(int items, int batch, int slots) {
        if (items < 0 || batch < 1 || slots < 1) {
            throw new IllegalArgumentException("items " + items + ", batch " + batch + ", slots " + slots);
        }
        List<Integer> sizes = new ArrayList<>();
        if (items == 0) {
            return sizes;
        }
        // Fewer items than slots x batch: spread them over the slots (smaller batches, all slots busy).
        int full = Math.min(batch, ceilDiv(items, slots));
        // Whole batches while more than 2 x slots of them remain; the rest is the tail.
        int head = slots == 1 ? items : Math.max(0, (items - 2 * slots * full) / full * full);
        for (int i = 0; i < ceilDiv(head, full); i++) {
            sizes.add(Math.min(full, head - i * full));
        }
        // Not below 4 images: smaller batches cost 4 rows anyway (model/Classifier.MIN_ROWS).
        int min = Math.min(full, Math.max(4, ceilDiv(full, 8)));
        int remaining = items - head;
        while (remaining > 0) {
            int size = Math.min(remaining, Math.min(full, Math.max(min, ceilDiv(remaining, 2 * slots))));
            sizes.add(size);
            remaining -= size;
        }
        return sizes;
    }

    /** The work list cut into {@link #sizes} consecutive chunks. */
    static <T> List<List<T>> chunks(List<T> items, int batch, int slots) {
        List<List<T>> out = new ArrayList<>();
        int from = 0;
        for (int size : sizes(items.size(), batch, slots)) {
            out.add(new ArrayList<>(items.subList(from, from + size)));
            from += size;
        }
        return out;
    }

    /** {@code "5 x 32, then 32 27 21"}: the leading run of equal sizes, then the rest. */
    static String describe(List<Integer> sizes) {
        int run = 0;
        while (run < sizes.size() && sizes.get(run).equals(sizes.get(0))) {
            run++;
        }
        StringBuilder b = new StringBuilder();
        if (run > 0) {
            b.append(run).append(" x ").append(sizes.get(0));
        }
        if (run < sizes.size()) {
            b.append(", then");
            sizes.subList(run, sizes.size()).forEach(s -> b.append(' ').append(s));
        }
        return b.toString();
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
