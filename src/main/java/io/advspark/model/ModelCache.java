package io.advspark.model;

import ai.djl.Device;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One materialised ensemble per executor JVM, job (broadcast) and device: the first task of a job
 * on an executor loads the models onto its device, every later task and batch on that device
 * reuses them (an executor with two GPUs holds two copies, one per GPU). Tasks of one device share
 * the ensemble; TorchScript modules in eval mode with frozen parameters are read-only, so
 * concurrent forwards and backwards on independent inputs are safe.
 *
 * <p>Tasks hold the ensemble through a {@link Lease}. Why: executors live as long as the Spark
 * application, and one application can run many jobs (an evaluated round loads surrogates, then
 * targets; a notebook or a scheduled session runs round after round), each with its own
 * broadcast. Without leases every job's models would stay on every executor until the application
 * ends, host and GPU memory growing by one ensemble per job. So when a task needs the models of a
 * job not yet loaded here, the ensembles of other jobs that no task holds are closed first (freeing
 * the memory before the new load needs it); ensembles still held by a concurrent job's tasks are
 * kept. {@link #evict} (the driver, at the end of a job) closes at once if nothing holds the
 * ensemble, else when the last lease is returned, so a straggling task attempt never computes on
 * freed native memory.
 */
public final class ModelCache {
    private static final Logger LOG = LoggerFactory.getLogger(ModelCache.class);
    private static final Map<String, Entry> CACHE = new LinkedHashMap<>(); // guarded by itself
    private static final AtomicInteger LOADS = new AtomicInteger();
    private static final AtomicInteger CLOSES = new AtomicInteger();
    /** Loads per model name in this JVM: more than one per job means a cache miss (see ClusterIT). */
    private static final Map<String, AtomicInteger> LOADS_BY_MODEL = new ConcurrentHashMap<>();

    private ModelCache() {}

    private static final class Entry {
        final String jobKey;
        final Ensemble ensemble;
        /** The job's purifiers (defense chains' {@code purify} stages) by URI, loaded with the ensemble. */
        final Map<String, Purifier> purifiers;
        int leases;
        boolean evicted;

        Entry(String jobKey, Ensemble ensemble, Map<String, Purifier> purifiers) {
            this.jobKey = jobKey;
            this.ensemble = ensemble;
            this.purifiers = purifiers;
        }
    }

    /** A task's hold on a cached ensemble; return it (close) when the task is done with the models. */
    public static final class Lease implements AutoCloseable {
        private final String key;
        private final Entry entry;
        private boolean returned;

        private Lease(String key, Entry entry) {
            this.key = key;
            this.entry = entry;
        }

        public Ensemble ensemble() {
            if (returned) {
                throw new IllegalStateException("model lease for " + key + " already returned");
            }
            return entry.ensemble;
        }

        /** The job's purifiers by URI (empty when its defense chains have none). */
        public Map<String, Purifier> purifiers() {
            if (returned) {
                throw new IllegalStateException("model lease for " + key + " already returned");
            }
            return entry.purifiers;
        }

        @Override
        public void close() {
            synchronized (CACHE) {
                if (returned) {
                    return;
                }
                returned = true;
                entry.leases--;
                if (entry.evicted && entry.leases == 0) {
                    closeEntry(key, entry, "evicted by the driver; its last task finished");
                }
            }
        }
    }

    /**
     * Leases the ensemble for {@code jobKey} (e.g. the broadcast id) on {@code device}, loading it on
     * first use; other jobs' ensembles that no task holds are closed before a load.
     *
     * @param jobKey identifies the broadcast: one entry per job's model set
     * @param bundles the models, fetched lazily (only the first caller reads the broadcast)
     */
    public static Lease acquire(String jobKey, Supplier<List<ModelBundle>> bundles, int threads, Device device) {
        return acquire(jobKey, bundles, List::of, threads, device);
    }

    /** As {@link #acquire(String, Supplier, int, Device)}, with the job's purifiers loaded beside its models. */
    public static Lease acquire(String jobKey, Supplier<List<ModelBundle>> bundles, Supplier<List<PurifierBundle>> purifiers,
            int threads, Device device) {
        String key = cacheKey(jobKey, device);
        synchronized (CACHE) {
            Entry e = CACHE.get(key);
            if (e == null) {
                for (Map.Entry<String, Entry> other : List.copyOf(CACHE.entrySet())) {
                    if (!other.getValue().jobKey.equals(jobKey) && other.getValue().leases == 0) {
                        CACHE.remove(other.getKey());
                        closeEntry(other.getKey(), other.getValue(), "idle; job " + jobKey + " needs its models");
                    }
                }
                Ensemble ensemble = load(jobKey, bundles, threads, device);
                Map<String, Purifier> loaded = new LinkedHashMap<>();
                try {
                    for (PurifierBundle p : purifiers.get()) {
                        loaded.put(p.uri(), Purifier.load(p, device));
                    }
                } catch (IOException | RuntimeException ex) {
                    loaded.values().forEach(Purifier::close);
                    ensemble.close();
                    throw new IllegalStateException(ex.getMessage(), ex);
                }
                e = new Entry(jobKey, ensemble, java.util.Collections.unmodifiableMap(loaded));
                CACHE.put(key, e);
            }
            e.leases++;
            return new Lease(key, e);
        }
    }

    private static Ensemble load(String jobKey, Supplier<List<ModelBundle>> bundles, int threads, Device device) {
        TorchRuntime.start(threads);
        long t0 = System.nanoTime();
        List<ModelBundle> list = bundles.get();
        Ensemble e;
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
        return e;
    }

    private static void closeEntry(String key, Entry e, String why) {
        e.ensemble.close();
        e.purifiers.values().forEach(Purifier::close);
        CLOSES.incrementAndGet();
        LOG.info("advspark model-close: key={} ({})", key, why);
    }

    /** How many models this JVM has materialised since start (for tests and metrics). */
    public static int loadCount() {
        return LOADS.get();
    }

    /** How many ensembles this JVM has closed since start (for tests and metrics). */
    public static int closeCount() {
        return CLOSES.get();
    }

    /** The cache keys ({@code jobKey@device}) held now, in load order (for tests and metrics). */
    public static List<String> cachedKeys() {
        synchronized (CACHE) {
            return List.copyOf(CACHE.keySet());
        }
    }

    private static String cacheKey(String jobKey, Device device) {
        return jobKey + "@" + device;
    }

    /**
     * Frees the ensembles of a finished job, on every device (the driver's copies in local mode):
     * now if no task holds them, else when the last lease is returned.
     */
    public static void evict(String jobKey) {
        synchronized (CACHE) {
            for (Map.Entry<String, Entry> en : List.copyOf(CACHE.entrySet())) {
                Entry e = en.getValue();
                if (!e.jobKey.equals(jobKey)) {
                    continue;
                }
                CACHE.remove(en.getKey());
                if (e.leases == 0) {
                    closeEntry(en.getKey(), e, "its job finished");
                } else {
                    e.evicted = true;
                }
            }
        }
    }
}
