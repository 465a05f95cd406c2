package io.advspark.model;

import ai.djl.Device;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One materialised ensemble per executor JVM, broadcast and device: the first task of a job on an
 * executor loads the models onto its device, every later task and batch on that device reuses
 * them (an executor with two GPUs holds two copies, one per GPU). Tasks of one device share the
 * ensemble; TorchScript modules in eval mode with frozen parameters are read-only, so
 * concurrent forwards and backwards on independent inputs are safe.
 */
public final class ModelCache {
    private static final Logger LOG = LoggerFactory.getLogger(ModelCache.class);
    private static final Map<String, Ensemble> CACHE = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();
    /** Loads per model name in this JVM: more than one per job means a cache miss (see ClusterIT). */
    private static final Map<String, AtomicInteger> LOADS_BY_MODEL = new ConcurrentHashMap<>();

    private ModelCache() {}

    /** The CPU ensemble for {@code key}: {@link #get(String, Supplier, int, Device)} on the CPU. */
    public static Ensemble get(String key, Supplier<List<ModelBundle>> bundles, int threads) {
        return get(key, bundles, threads, Device.cpu());
    }

    /**
     * The ensemble for {@code key} (e.g. the broadcast id) on {@code device}, loading it on first use.
     *
     * @param jobKey identifies the broadcast: one entry per job's model set
     * @param bundles the models, fetched lazily (only the first caller reads the broadcast)
     */
    public static Ensemble get(String jobKey, Supplier<List<ModelBundle>> bundles, int threads, Device device) {
        String key = cacheKey(jobKey, device);
        Ensemble e = CACHE.get(key);
        if (e != null) {
            return e;
        }
        synchronized (CACHE) {
            e = CACHE.get(key);
            if (e != null) {
                return e;
            }
            TorchRuntime.start(threads);
            long t0 = System.nanoTime();
            List<ModelBundle> list = bundles.get();
            try {
                e = Ensemble.load(list, device);
            } catch (IOException ex) {
                throw new IllegalStateException(ex.getMessage(), ex);
            }
            for (ModelBundle b : list) {
                LOADS.incrementAndGet();
                int n = LOADS_BY_MODEL.computeIfAbsent(b.card().name() + "@" + device, k -> new AtomicInteger()).incrementAndGet();
                // n counts the loads of this model (by name) on this device in this JVM: 1 per
                // executor and device for a round.
                LOG.info("advspark model-load: model={} device={} key={} loads-in-this-jvm={}", b.card().name(), device,
                        jobKey, n);
            }
            LOG.info("advspark: ensemble of {} models loaded on {} in {} ms", list.size(), device, (System.nanoTime() - t0) / 1_000_000);
            CACHE.put(key, e);
            return e;
        }
    }

    /** How many models this JVM has materialised since start (for tests and metrics). */
    public static int loadCount() {
        return LOADS.get();
    }

    private static String cacheKey(String jobKey, Device device) {
        return jobKey + "@" + device;
    }

    /** Frees the ensembles of a finished job, on every device (driver side in local mode). */
    public static void evict(String jobKey) {
        for (String k : List.copyOf(CACHE.keySet())) {
            if (k.startsWith(jobKey + "@")) {
                Ensemble e = CACHE.remove(k);
                if (e != null) {
                    e.close();
                }
            }
        }
    }
}
