package io.advspark.job;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.advspark.data.ManifestRow;
import io.advspark.data.Storage;
import io.advspark.model.ModelBundle;
import io.advspark.model.ModelCache;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.RoundConfig;
import io.advspark.round.AttackRecord;
import io.advspark.round.BatchAttacker.Loaded;
import io.advspark.round.BatchAttacker;
import io.advspark.round.Provenance;
import io.advspark.round.RecordTables;
import io.advspark.round.RoundLayout;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.SparkEnv;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.LongAccumulator;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executor side of an attack round, the Spark adapter of {@link BatchAttacker}: feeds it one
 * partition of the work list in batches, every image read once and attacked by each of the round's
 * attack configurations it still needs, and commits each (attack, batch) as it finishes: PNGs, then
 * its record file (see {@link RoundState}). The ensemble comes from the per-JVM
 * {@link ModelCache}; an image that cannot be read becomes an error row and the others go on.
 */
public final class PartitionAttacker
        implements org.apache.spark.api.java.function.VoidFunction<Iterator<WorkItem>> {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionAttacker.class);

    private final RoundConfig config;
    private final Broadcast<List<ModelBundle>> models;
    private final Broadcast<SerializableConfiguration> hadoopConf;
    private final LongAccumulator imagesDone;
    private final LongAccumulator imagesFailed;
    private final String cacheKey;
    /** Label -> ImageId of its guide image, for starts that need guides (else null). */
    private Map<Integer, String> guideIds;
    /** Where the task time goes (null: not measured). */
    private RunMetrics metrics;
    /** What the images are made with, carried by every record row (see Provenance). */
    private Provenance provenance;
    /** The validation models, when an attack stops or searches on them (else null). */
    private Validation validation;

    /**
     * The validation models of a round, broadcast beside the surrogates: each executor loads them
     * once (their own {@link ModelCache} entry) and queries every defended variant.
     */
    record Validation(String cacheKey, Broadcast<List<ModelBundle>> models,
            Broadcast<List<io.advspark.model.PurifierBundle>> purifiers, List<io.advspark.round.BatchScorer.Variant> variants)
            implements java.io.Serializable {}

    public PartitionAttacker(
            String cacheKey,
            RoundConfig config,
            Broadcast<List<ModelBundle>> models,
            Broadcast<SerializableConfiguration> hadoopConf,
            LongAccumulator imagesDone,
            LongAccumulator imagesFailed) {
        this.cacheKey = cacheKey;
        this.config = config;
        this.models = models;
        this.hadoopConf = hadoopConf;
        this.imagesDone = imagesDone;
        this.imagesFailed = imagesFailed;
    }

    /**
     * Gives the guide image of each label (dataset convention; see {@code AttackJob.guideIds}),
     * needed when the attack's start blends toward an image of the target class. The guide of an
     * image may live in any partition: it is read from storage.
     */
    public PartitionAttacker withGuides(Map<Integer, String> guideIds) {
        this.guideIds = guideIds == null ? null : new TreeMap<>(guideIds);
        return this;
    }

    /** The surrogates' and manifest's fingerprints that every record row carries (required). */
    public PartitionAttacker withProvenance(Provenance p) {
        this.provenance = p;
        return this;
    }

    /** Gives the validation models that {@code attack.stop} / {@code attack.search} query (null: none). */
    PartitionAttacker withValidation(Validation v) {
        this.validation = v;
        return this;
    }

    /** Measures the task time into {@code m} (see {@link RunMetrics}). */
    public PartitionAttacker withMetrics(RunMetrics m) {
        this.metrics = m;
        return this;
    }

    @Override
    public void call(Iterator<WorkItem> items) throws Exception {
        if (provenance == null) {
            throw new IllegalStateException("record rows need the round's provenance: use withProvenance");
        }
        // Every write of the task is checked to stay inside the round.
        Storage storage = Storage.of(hadoopConf.value().value()).fencedTo(config.roundUri());
        long tm = System.nanoTime();
        Device device = TaskDevice.forTask(config.device(), config.threads());
        String deviceName = TaskDevice.name(device);
        // The lease keeps the ensemble open while this task computes with it (see ModelCache).
        try (ModelCache.Lease lease = ModelCache.acquire(cacheKey, models::value, config.threads(), device)) {
            if (metrics != null) {
                metrics.modelNanos.add(System.nanoTime() - tm);
            }
            String executor = SparkEnv.get() == null ? "driver" : SparkEnv.get().executorId();
            BatchAttacker attacker = new BatchAttacker(config, storage, lease.ensemble(), provenance, executor,
                    deviceName, guideIds, this::time);
            if (validation == null) {
                attackPartition(items, storage, attacker, device, executor);
                return;
            }
            // Acquired while the surrogates' lease is held, so loading one never evicts the other.
            try (ModelCache.Lease v = ModelCache.acquire(validation.cacheKey(), validation.models()::value,
                    validation.purifiers()::value, config.threads(), device)) {
                attacker.withValidation(new io.advspark.round.BatchScorer(config.roundId(), config.dataset(),
                        validation.variants(), storage, v.ensemble(), v.purifiers()));
                attackPartition(items, storage, attacker, device, executor);
            }
        }
    }

    private void time(BatchAttacker.Phase phase, long nanos) {
        if (metrics != null) {
            (switch (phase) {
                case READ -> metrics.readNanos;
                case ATTACK -> metrics.attackNanos;
                case ENCODE -> metrics.encodeNanos;
                case WRITE -> metrics.writeNanos;
            }).add(nanos);
        }
    }

    private void attackPartition(Iterator<WorkItem> items, Storage storage, BatchAttacker attacker, Device device,
            String executor) throws Exception {
        RoundLayout layout = RoundLayout.of(config);
        Map<String, List<Row>> failed = new LinkedHashMap<>();
        Map<String, List<String>> failedKeys = new LinkedHashMap<>();
        List<Loaded> pending = new ArrayList<>();
        try (NDManager manager = TorchRuntime.newManager(device)) {
            while (items.hasNext()) {
                WorkItem item = items.next();
                ManifestRow r = item.row();
                String error = r.ok() ? null : r.error();
                Loaded l = null;
                if (error == null) {
                    l = attacker.read(r);
                    error = l.error();
                    if (error != null) {
                        LOG.warn("advspark: skipping {}: {}", r.imageId(), error);
                    }
                }
                if (error != null) {
                    for (String a : item.attacks()) {
                        failed.computeIfAbsent(a, k -> new ArrayList<>()).add(row(attacker.failed(a, r, error)));
                        failedKeys.computeIfAbsent(a, k -> new ArrayList<>()).add(r.imageId() + "@" + r.rowNumber());
                    }
                    imagesFailed.add(item.attacks().size());
                    continue;
                }
                pending.add(l.forAttacks(item.attacks()));
                if (pending.size() >= config.batchSize()) {
                    runBatch(attacker, storage, layout, pending, manager, executor);
                    pending.clear();
                }
            }
            if (!pending.isEmpty()) {
                runBatch(attacker, storage, layout, pending, manager, executor);
            }
        }
        // Error rows last: a rerun retries these images, so they never hide a committed batch.
        for (Map.Entry<String, List<Row>> e : failed.entrySet()) {
            ParquetFiles.write(storage, layout.failedFile(e.getKey(), failedKeys.get(e.getKey())),
                    SparkTables.struct(RecordTables.RECORDS), e.getValue());
        }
    }

    /**
     * Attacks loaded images with every attack they still need, grouped by size, committing each
     * (attack, group): its PNGs (written by the attacker), then one atomic record file.
     */
    private void runBatch(BatchAttacker attacker, Storage storage, RoundLayout layout, List<Loaded> batch,
            NDManager manager, String executor) throws IOException, InterruptedException {
        for (String attack : attacker.attackNames()) {
            for (List<Loaded> group : attacker.groups(attack, batch)) {
                long t0 = System.nanoTime();
                List<Row> rows = attacker.attack(attack, group, manager).stream().map(PartitionAttacker::row).toList();
                long tw = System.nanoTime();
                ParquetFiles.write(storage, layout.batchFile(attack, group.stream().map(l -> l.row().imageId()).toList()),
                        SparkTables.struct(RecordTables.RECORDS), rows);
                time(BatchAttacker.Phase.WRITE, System.nanoTime() - tw);
                imagesDone.add(group.size());
                if (metrics != null) {
                    metrics.batch(executor, group.size(), System.nanoTime() - t0);
                }
            }
        }
    }

    private static Row row(AttackRecord record) {
        return RowFactory.create(record.values());
    }
}
