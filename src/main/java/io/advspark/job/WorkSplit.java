package io.advspark.job;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * How a round's work list becomes Spark partitions when {@code dataset.partitions = 0}: whole
 * batches of images, and a tail split by attack configs.
 *
 * <ul>
 *   <li><b>Whole batches.</b> The images are cut into equal groups of at most {@code batch-size}
 *       (fewer per group when there are fewer images than slots x batch, so every slot gets
 *       work). A partition never holds a batch and a remnant: a partition of 1.2 batches would run
 *       a full batch and one of a few images, and small batches cost nearly what full ones do on
 *       a GPU, and per image up to 3 times more on a CPU (fixed per-step costs).
 *   <li><b>One batch per task.</b> Spark hands the next partition to whichever slot frees up, so a
 *       slow GPU takes fewer batches and a lost executor costs the batches it was running.
 *   <li><b>A tail split by attack configs.</b> A task runs its batch through every attack config
 *       of the round, so with 12 configs one task is 12 batches of work, and at the end one slot
 *       would run a whole such task while the others idle. The last {@code 2 x slots} batches
 *       are therefore split into partitions of the same images and a share of the configs,
 *       shrinking towards one config (guided self-scheduling, Polychronopoulos and Kuck, IEEE
 *       Trans. Computers 1987: each takes about {@code remaining / (2 x slots)} of the remaining
 *       (image, config) pairs). Spark launches partitions in index order, so the small ones run
 *       last, and the batches stay whole. A round of one config has nothing to split: its tasks
 *       are one batch of one config already.
 * </ul>
 *
 * Each (attack, batch) is committed on its own whatever the split (see {@link RoundState}), and
 * an image's pixels do not depend on its batch (model/Classifier), so the split changes neither
 * what is written nor how a rerun resumes.
 */
final class WorkSplit {
    private WorkSplit() {}

    /**
     * The partitions, in launch order: consecutive groups of {@code work}, each item keeping its
     * attacks, except in the tail, where an item appears in several partitions with disjoint
     * shares of its attacks (the next ones in the items' order, which is configuration order).
     * Every (item, attack) pair appears exactly once.
     */
    static List<List<WorkItem>> split(List<WorkItem> work, int batch, int slots) {
        if (batch < 1 || slots < 1) {
            throw new IllegalArgumentException("batch " + batch + ", slots " + slots);
        }
        List<List<WorkItem>> out = new ArrayList<>();
        int n = work.size();
        if (n == 0) {
            return out;
        }
        int full = Math.min(batch, ceilDiv(n, slots));
        int groups = ceilDiv(n, full);
        List<List<WorkItem>> g = new ArrayList<>(groups);
        for (int i = 0; i < groups; i++) {
            // Spark's parallelize split: sizes differ by at most one, none above full.
            g.add(work.subList((int) ((long) i * n / groups), (int) ((long) (i + 1) * n / groups)));
        }
        int tailFrom = slots == 1 ? groups : Math.max(0, groups - 2 * slots);
        for (int i = 0; i < tailFrom; i++) {
            out.add(new ArrayList<>(g.get(i)));
        }
        long remaining = 0;
        for (int i = tailFrom; i < groups; i++) {
            remaining += pairs(g.get(i));
        }
        for (int i = tailFrom; i < groups; i++) {
            List<WorkItem> group = g.get(i);
            List<String> left = attacksOf(group);
            while (!left.isEmpty()) {
                long target = Math.max(1, ceilDiv(remaining, 2L * slots));
                int k = (int) Math.max(1, Math.min(left.size(), Math.round((double) target / group.size())));
                Set<String> share = new LinkedHashSet<>(left.subList(0, k));
                left = new ArrayList<>(left.subList(k, left.size()));
                List<WorkItem> part = new ArrayList<>();
                for (WorkItem w : group) {
                    List<String> mine = w.attacks().stream().filter(share::contains).toList();
                    if (!mine.isEmpty()) {
                        part.add(new WorkItem(w.row(), mine));
                    }
                }
                remaining -= pairs(part);
                out.add(part);
            }
        }
        return out;
    }

    /** {@code "6 x 30x12, then 30x12 30x9 30x3"}: images x attack configs per partition, a leading run of equal ones folded. */
    static String describe(List<List<WorkItem>> parts) {
        List<String> shapes = parts.stream()
                .map(p -> p.size() + "x" + p.stream().mapToInt(w -> w.attacks().size()).max().orElse(0))
                .toList();
        int run = 0;
        while (run < shapes.size() && shapes.get(run).equals(shapes.get(0))) {
            run++;
        }
        StringBuilder b = new StringBuilder();
        if (run > 0) {
            b.append(run).append(" x ").append(shapes.get(0));
        }
        if (run < shapes.size()) {
            b.append(", then");
            shapes.subList(run, shapes.size()).forEach(s -> b.append(' ').append(s));
        }
        return b.append(" (images x attack configs)").toString();
    }

    /** (image, attack) pairs of a list of work items. */
    static long pairs(List<WorkItem> items) {
        return items.stream().mapToLong(w -> w.attacks().size()).sum();
    }

    /** The attacks any item of {@code group} still needs, in the order the items list them. */
    private static List<String> attacksOf(List<WorkItem> group) {
        Set<String> needed = new LinkedHashSet<>();
        group.forEach(w -> needed.addAll(w.attacks()));
        return new ArrayList<>(needed);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
