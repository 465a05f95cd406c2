package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.data.ManifestRow;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class WorkSplitTest {

    private static List<String> attacks(int k) {
        return IntStream.range(0, k).mapToObj(i -> "a" + i).toList();
    }

    private static List<WorkItem> work(int images, List<String> attacks) {
        List<WorkItem> w = new ArrayList<>();
        for (int i = 0; i < images; i++) {
            w.add(new WorkItem(new ManifestRow(i + 2, String.format("%04d.png", i), 1, 2, null), attacks));
        }
        return w;
    }

    private static List<String> shapes(List<List<WorkItem>> parts) {
        return parts.stream().map(p -> p.size() + "x" + p.get(0).attacks().size()).toList();
    }

    @Test
    void theScalingRoundKeepsWholeBatchesAndSplitsItsTailByAttackConfigs() {
        // The scaling benchmark's round: 300 images x 12 eps configs, batch 32, 2 one-core executors.
        List<String> a = attacks(12);
        List<List<WorkItem>> parts = WorkSplit.split(work(300, a), 32, 2);
        assertEquals(List.of("30x12", "30x12", "30x12", "30x12", "30x12", "30x12", "30x12", "30x9", "30x3", "30x6", "30x5",
                "30x1", "30x3", "30x2", "30x2", "30x1", "30x1", "30x1", "30x1", "30x1"), shapes(parts));
        assertEquals("7 x 30x12, then 30x9 30x3 30x6 30x5 30x1 30x3 30x2 30x2 30x1 30x1 30x1 30x1 30x1 (images x attack configs)",
                WorkSplit.describe(parts));
        // A tail partition takes the next configs in configuration order.
        assertEquals(List.of("a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"), parts.get(7).get(0).attacks());
        assertEquals(List.of("a9", "a10", "a11"), parts.get(8).get(0).attacks());
        assertEveryPairOnce(work(300, a), parts);
    }

    @Test
    void oneSlotGetsWholeBatchesOnly() {
        List<String> a = attacks(3);
        assertEquals(List.of("30x3", "30x3", "30x3", "30x3", "30x3", "30x3", "30x3", "30x3", "30x3", "30x3"),
                shapes(WorkSplit.split(work(300, a), 32, 1)));
    }

    @Test
    void oneConfigRoundsAreOneBatchPerTask() {
        List<String> a = attacks(1);
        List<List<WorkItem>> parts = WorkSplit.split(work(1216, a), 16, 8);
        assertEquals(76, parts.size());
        assertTrue(parts.stream().allMatch(p -> p.size() == 16), shapes(parts).toString());
    }

    @Test
    void fewImagesAreSpreadOverTheSlotsInWholeGroups() {
        List<String> a = attacks(6);
        // 48 images, batch 32, 2 slots: two groups of 24, their configs shared out.
        List<List<WorkItem>> parts = WorkSplit.split(work(48, a), 32, 2);
        assertTrue(parts.stream().allMatch(p -> p.size() == 24), shapes(parts).toString());
        assertEveryPairOnce(work(48, a), parts);
        assertEquals(List.of("1x1", "1x1", "1x1"), shapes(WorkSplit.split(work(3, attacks(1)), 32, 8)));
        assertEquals(List.of(), WorkSplit.split(List.of(), 32, 8));
    }

    @Test
    void resumedItemsKeepOnlyWhatTheyStillNeed() {
        List<String> a = attacks(4);
        List<WorkItem> w = new ArrayList<>(work(10, a));
        // Images 0-4 have a0 and a1 committed already.
        for (int i = 0; i < 5; i++) {
            w.set(i, new WorkItem(w.get(i).row(), List.of("a2", "a3")));
        }
        List<List<WorkItem>> parts = WorkSplit.split(w, 8, 4);
        assertEveryPairOnce(w, parts);
        assertTrue(parts.stream().allMatch(p -> !p.isEmpty()), shapes(parts).toString());
    }

    @Test
    void everySplitCoversEveryPairOnceInWholeBatches() {
        for (int images : new int[] {1, 7, 48, 100, 300, 1216}) {
            for (int configs : new int[] {1, 3, 12}) {
                for (int batch : new int[] {1, 8, 32}) {
                    for (int slots : new int[] {1, 2, 3, 8, 64}) {
                        List<String> a = attacks(configs);
                        List<WorkItem> w = work(images, a);
                        List<List<WorkItem>> parts = WorkSplit.split(w, batch, slots);
                        String what = images + " images x " + configs + ", batch " + batch + ", " + slots + " slots";
                        assertEveryPairOnce(w, parts);
                        int full = Math.min(batch, (images + slots - 1) / slots);
                        int groups = (images + full - 1) / full;
                        for (List<WorkItem> p : parts) {
                            // Groups are an even split into as few as whole batches allow: never above a batch.
                            assertTrue(p.size() <= full && p.size() >= images / groups && p.size() <= (images + groups - 1) / groups,
                                    what + ": " + p.size());
                        }
                        if (slots > 1 && configs > 1 && images >= 4 * slots * batch) {
                            // The very last partitions are one config each.
                            assertEquals(1, parts.get(parts.size() - 1).get(0).attacks().size(), what);
                        }
                    }
                }
            }
        }
    }

    private static void assertEveryPairOnce(List<WorkItem> work, List<List<WorkItem>> parts) {
        Set<String> want = new HashSet<>();
        work.forEach(w -> w.attacks().forEach(a -> want.add(w.row().imageId() + "/" + a)));
        Set<String> got = new HashSet<>();
        for (List<WorkItem> p : parts) {
            for (WorkItem w : p) {
                for (String a : w.attacks()) {
                    assertTrue(got.add(w.row().imageId() + "/" + a), "twice: " + w.row().imageId() + "/" + a);
                }
            }
        }
        assertEquals(want, got);
    }
}
