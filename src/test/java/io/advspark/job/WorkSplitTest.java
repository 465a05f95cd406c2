package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class WorkSplitTest {

    @Test
    void cifarScalingRoundOnTwoSlots() {
        // The scaling benchmark's round: 300 images, batch 32, 2 one-core executors.
        assertEquals(List.of(32, 32, 32, 32, 32, 32, 27, 21, 15, 12, 9, 6, 5, 4, 4, 4, 1), WorkSplit.sizes(300, 32, 2));
        assertEquals("6 x 32, then 27 21 15 12 9 6 5 4 4 4 1", WorkSplit.describe(WorkSplit.sizes(300, 32, 2)));
    }

    @Test
    void oneSlotGetsWholeBatchesOnly() {
        assertEquals(List.of(32, 32, 32, 32, 32, 32, 32, 32, 32, 12), WorkSplit.sizes(300, 32, 1));
    }

    @Test
    void fewImagesAreSpreadOverTheSlots() {
        assertEquals(List.of(3, 2), WorkSplit.sizes(5, 32, 2));
        assertEquals(List.of(1, 1, 1), WorkSplit.sizes(3, 32, 8));
        assertEquals(List.of(), WorkSplit.sizes(0, 32, 8));
    }

    @Test
    void everySplitCoversTheItemsWithoutBatchOverflowAndShrinksAtTheEnd() {
        for (int items : new int[] {1, 7, 48, 100, 300, 1216, 5000}) {
            for (int batch : new int[] {1, 8, 16, 32}) {
                for (int slots : new int[] {1, 2, 3, 8, 64}) {
                    List<Integer> sizes = WorkSplit.sizes(items, batch, slots);
                    String what = items + " items, batch " + batch + ", " + slots + " slots: " + sizes;
                    assertEquals(items, sizes.stream().mapToInt(Integer::intValue).sum(), what);
                    assertTrue(sizes.stream().allMatch(s -> s >= 1 && s <= batch), what);
                    int headBatches = (int) sizes.stream().takeWhile(s -> s == sizes.get(0)).count();
                    if (items >= 4 * slots * batch) {
                        // Long rounds: whole batches until the tail, and at least one slot-round of them.
                        assertEquals(batch, sizes.get(0), what);
                        assertTrue(headBatches >= slots, what);
                    }
                    if (slots > 1 && sizes.size() > 2 * slots) {
                        // The last partitions are the small ones: an eighth of a batch (at least 4), or what is left.
                        int last = sizes.get(sizes.size() - 1);
                        assertTrue(last <= Math.max(4, (batch + 7) / 8), what);
                        for (int i = 1; i < sizes.size(); i++) {
                            assertTrue(sizes.get(i) <= sizes.get(i - 1), "not shrinking: " + what);
                        }
                    }
                }
            }
        }
    }

    @Test
    void chunksKeepTheOrder() {
        List<Integer> items = IntStream.range(0, 100).boxed().toList();
        List<List<Integer>> chunks = WorkSplit.chunks(items, 16, 2);
        assertEquals(items, chunks.stream().flatMap(List::stream).toList());
        assertEquals(WorkSplit.sizes(100, 16, 2), chunks.stream().map(List::size).toList());
    }
}
