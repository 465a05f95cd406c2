package io.advspark.model;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Long-lived threads for libtorch work, reused across Spark tasks and jobs of one JVM.
 *
 * <p>Why: libtorch's OpenMP runtime (libgomp) gives every thread that enters a parallel region
 * its own team of worker threads, kept until that thread exits. Spark runs each task on a thread
 * of a cached pool, often a new one, and in local mode the driver's main thread (model checks)
 * lives in the same JVM. Teams pile up, and once their threads outnumber the cores libgomp stops
 * spin-waiting, so every parallel region pays futex wake-ups: with 2 libtorch threads on 2 cores
 * the attack steps of a task ran about 35 % slower (measured with jobs/bench). Running the
 * tensor work here keeps one team per concurrently attacking task. With one libtorch thread
 * there are no teams and this changes nothing. Results are unaffected: same ops, same order,
 * same thread count.
 *
 * <p>A caller takes the most recently released idle worker (or starts one), runs its body there
 * and waits; so at most as many workers exist as callers ever ran at the same time. Grad mode is
 * thread-local in libtorch: a body must do its graph work from start to finish itself.
 */
public final class TorchThreads {
    private static final Deque<ExecutorService> IDLE = new ArrayDeque<>();
    private static final AtomicInteger STARTED = new AtomicInteger();

    private TorchThreads() {}

    /**
     * Runs {@code body} on a torch worker thread and returns its result; its runtime exceptions
     * and errors are rethrown as they are.
     *
     * @throws InterruptedException if the caller is interrupted while waiting (the body runs on
     *     to its end: native work cannot be cancelled halfway)
     */
    public static <T> T call(Callable<T> body) throws InterruptedException {
        ExecutorService worker;
        synchronized (IDLE) {
            worker = IDLE.pollFirst();
        }
        if (worker == null) {
            worker = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "advspark-torch-" + STARTED.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }
        try {
            Future<T> f = worker.submit(body);
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(c);
        } finally {
            synchronized (IDLE) {
                IDLE.addFirst(worker); // a body still running (interrupted caller) just delays the next one
            }
        }
    }

    /**
     * As {@link #call}, for callers that cannot throw {@link InterruptedException}: an interrupt
     * while waiting re-sets the flag and fails with an unchecked exception.
     */
    public static <T> T callUnchecked(Callable<T> body) {
        try {
            return call(body);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for libtorch work", e);
        }
    }

    /** Worker threads started in this JVM so far (for tests). */
    public static int started() {
        return STARTED.get();
    }
}
