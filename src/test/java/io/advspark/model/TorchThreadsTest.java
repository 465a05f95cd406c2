package io.advspark.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The torch worker pool: reuse across callers (one OpenMP team per concurrent caller), errors. */
class TorchThreadsTest {

    private static String worker() throws InterruptedException {
        return TorchThreads.call(() -> Thread.currentThread().getName());
    }

    @Test
    void sequentialCallersFromDifferentThreadsShareOneWorker() throws Exception {
        String first = worker();
        assertTrue(first.startsWith("advspark-torch-"), first);
        // Spark runs successive tasks on different threads: they must still land on the same worker.
        for (int i = 0; i < 5; i++) {
            ExecutorService fresh = Executors.newSingleThreadExecutor();
            try {
                assertEquals(first, fresh.submit(TorchThreadsTest::worker).get(10, TimeUnit.SECONDS));
            } finally {
                fresh.shutdown();
            }
        }
    }

    @Test
    void concurrentCallersGetTheirOwnWorkersWhichAreThenReused() throws Exception {
        CountDownLatch bothInside = new CountDownLatch(2);
        ExecutorService callers = Executors.newFixedThreadPool(2);
        try {
            java.util.concurrent.Callable<String> call = () -> TorchThreads.call(() -> {
                bothInside.countDown();
                assertTrue(bothInside.await(10, TimeUnit.SECONDS), "the two bodies did not run at the same time");
                return Thread.currentThread().getName();
            });
            Future<String> a = callers.submit(call);
            Future<String> b = callers.submit(call);
            String wa = a.get(20, TimeUnit.SECONDS);
            String wb = b.get(20, TimeUnit.SECONDS);
            assertNotEquals(wa, wb);
            int started = TorchThreads.started();
            for (int i = 0; i < 4; i++) {
                String w = worker();
                assertTrue(w.equals(wa) || w.equals(wb), w + " is neither " + wa + " nor " + wb);
            }
            assertEquals(started, TorchThreads.started(), "idle workers must be reused, not replaced");
        } finally {
            callers.shutdown();
        }
    }

    @Test
    void exceptionsReachTheCallerUnchanged() {
        IllegalArgumentException boom = new IllegalArgumentException("boom");
        assertSame(boom, assertThrows(IllegalArgumentException.class, () -> TorchThreads.call(() -> {
            throw boom;
        })));
        assertThrows(AssertionError.class, () -> TorchThreads.callUnchecked(() -> {
            throw new AssertionError("error");
        }));
        IllegalStateException wrapped = assertThrows(IllegalStateException.class,
                () -> TorchThreads.callUnchecked(() -> {
                    throw new java.io.IOException("checked");
                }));
        assertEquals("checked", wrapped.getCause().getMessage());
    }
}
