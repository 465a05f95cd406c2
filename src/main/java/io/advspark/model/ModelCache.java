package io.advspark.model;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One materialised ensemble per executor JVM and broadcast: the first task of a job on an
 * executor loads the models, every later task and batch reuses them. Tasks of one executor
 * share the ensemble; TorchScript modules in eval mode with frozen parameters are read-only, so
 * concurrent forwards and backwards on independent inputs are safe.
 */
public final class ModelCache {
    private static final Logger LOG = LoggerFactory.getLogger(ModelCache.class);
    private static final Map<String, Ensemble> CACHE = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();
    /** Loads per model name in this JVM: more than one per job means a cache miss (see ClusterIT). */
    private static final Map<String, AtomicInteger> LOADS_BY_MODEL = new ConcurrentHashMap<>();

    private ModelCache() {}

    /**
     * The ensemble for {@code key} (e.g. the broadcast id), loading it on first use.
     *
     * @param key identifies the broadcast: one entry per job's model set
     * @param bundles the models, fetched lazily (only the first caller reads the broadcast)
     */
    public static Ensemble get(String key, java.util.function.Supplier<List<ModelBundle>> bundles, int threads) {
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
                e = Ensemble.load(list);
            } catch (IOException ex) {
                throw new IllegalStateException(ex.getMessage(), ex);
            }
            for (ModelBundle b : list) {
                LOADS.incrementAndGet();
                int n = LOADS_BY_MODEL.computeIfAbsent(b.card().name(), k -> new AtomicInteger()).incrementAndGet();
                // n counts the loads of this model (by name) in this JVM: 1 per executor for a round.
                LOG.info("advspark model-load: model={} key={} loads-in-this-jvm={}", b.card().name(), key, n);
            }
            LOG.info("advspark: ensemble of {} models loaded in {} ms", list.size(), (System.nanoTime() - t0) / 1_000_000);
            CACHE.put(key, e);
            return e;
        }
    }

    /** How many models this JVM has materialised since start (for tests and metrics). */
    public static int loadCount() {
        return LOADS.get();
    }

    /** Frees the ensembles of finished jobs (driver side in local mode). */
    public static void evict(String key) {
        Ensemble e = CACHE.remove(key);
        if (e != null) {
            e.close();
        }
    }
}
