package io.advspark.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.advspark.testing.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The executor's model cache across jobs (the demo's real TorchScript models): an executor runs
 * the jobs of one application one after another, so it must not keep every job's ensemble, yet it
 * must never close one that a running task computes with.
 */
class ModelCacheTest {
    private static final Path DEMO = Path.of("demo").toAbsolutePath();
    private static final Supplier<List<ModelBundle>> MODELS = () -> {
        try {
            return List.of(Fixtures.bundle(DEMO.resolve("models/tiny_a.pt"), 1.0),
                    Fixtures.bundle(DEMO.resolve("models/tiny_b.pt"), 1.0));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    };
    private static int jobs;

    /** A job key no other test uses (the cache is per JVM). */
    private static String job() {
        return "cache-test-" + (++jobs) + "-" + System.nanoTime();
    }

    private static ModelCache.Lease lease(String job) {
        return ModelCache.acquire(job, MODELS, 2, Device.cpu());
    }

    private static boolean cached(String job) {
        return ModelCache.cachedKeys().stream().anyMatch(k -> k.startsWith(job + "@"));
    }

    /** The ensemble still computes: predictions for a mid-grey batch of two 32x32 images. */
    private static int[] predict(ModelCache.Lease lease) {
        float[] grey = new float[2 * 3 * 32 * 32];
        Arrays.fill(grey, 0.5f);
        try (NDManager m = TorchRuntime.newManager(Device.cpu())) {
            int[] p = lease.ensemble().predict(grey, new long[] {2, 3, 32, 32}, m);
            assertEquals(2, p.length);
            return p;
        }
    }

    @Test
    void aNewJobClosesTheEnsemblesOfEarlierJobsThatNoTaskHolds() {
        String a = job();
        String b = job();
        int loads = ModelCache.loadCount();
        try (ModelCache.Lease first = lease(a)) {
            predict(first);
        }
        try (ModelCache.Lease again = lease(a)) {
            predict(again);
        }
        assertEquals(loads + 2, ModelCache.loadCount(), "two tasks of one job: one load of its 2 models");
        assertTrue(cached(a), "an idle ensemble stays for the job's next task");

        int closes = ModelCache.closeCount();
        try (ModelCache.Lease next = lease(b)) {
            predict(next);
        }
        assertFalse(cached(a), "job " + a + " left on the executor: " + ModelCache.cachedKeys());
        assertTrue(cached(b));
        assertEquals(closes + 1, ModelCache.closeCount());
        ModelCache.evict(b);
        assertFalse(cached(b));
    }

    @Test
    void anEnsembleATaskHoldsIsKeptUntilItsLeaseIsReturned() {
        String a = job();
        String b = job();
        String c = job();
        ModelCache.Lease heldA = lease(a);
        int[] before = predict(heldA);
        try (ModelCache.Lease leaseB = lease(b)) {
            assertTrue(cached(a), "job " + a + " is in use by a task; loading " + b + " must not close it");
            predict(leaseB);
        }
        assertArrayEquals(before, predict(heldA), "the held ensemble still computes the same");
        heldA.close();
        int closes = ModelCache.closeCount();
        try (ModelCache.Lease leaseC = lease(c)) {
            predict(leaseC);
        }
        assertEquals(closes + 2, ModelCache.closeCount(), "the idle ensembles of " + a + " and " + b + " are closed");
        assertEquals(List.of(), ModelCache.cachedKeys().stream().filter(k -> k.startsWith(a) || k.startsWith(b)).toList());
        ModelCache.evict(c);
    }

    @Test
    void theDriversEvictWaitsForTheLastTaskOfTheJob() {
        String a = job();
        int loads = ModelCache.loadCount();
        ModelCache.Lease one = lease(a);
        ModelCache.Lease two = lease(a);
        int closes = ModelCache.closeCount();
        ModelCache.evict(a); // e.g. the job ended while a speculative attempt still runs
        assertFalse(cached(a), "a new task of the job must not find the evicted ensemble");
        assertEquals(closes, ModelCache.closeCount(), "closed while two tasks hold it");
        predict(two);
        one.close();
        one.close(); // returning twice counts once
        assertEquals(closes, ModelCache.closeCount(), "closed while a task holds it");
        predict(two);
        two.close();
        assertEquals(closes + 1, ModelCache.closeCount(), "the last lease closes it");
        assertThrows(IllegalStateException.class, two::ensemble);

        try (ModelCache.Lease fresh = lease(a)) {
            predict(fresh);
        }
        assertEquals(loads + 4, ModelCache.loadCount(), "after the evict, the job's models load anew");
        ModelCache.evict(a);
    }
}
