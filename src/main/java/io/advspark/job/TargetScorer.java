package io.advspark.job;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.advspark.data.Storage;
import io.advspark.model.ModelBundle;
import io.advspark.model.ModelCache;
import io.advspark.model.PurifierBundle;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.DatasetConfig;
import io.advspark.round.BatchScorer;
import io.advspark.round.BatchScorer.Item;
import io.advspark.round.BatchScorer.Loaded;
import io.advspark.round.BatchScorer.PassRow;
import io.advspark.round.BatchScorer.Variant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executor side of {@code advspark evaluate}, the Spark adapter of {@link BatchScorer}: scores one
 * partition of images in batches on every defended target and returns the pass rows. The targets
 * come from the per-JVM {@link ModelCache}.
 */
final class TargetScorer implements FlatMapFunction<Iterator<Item>, Row> {
    private static final Logger LOG = LoggerFactory.getLogger(TargetScorer.class);

    private final String cacheKey;
    private final String roundId;
    private final DatasetConfig dataset;
    private final List<Variant> variants;
    private final int batchSize;
    private final int threads;
    private final String device;
    private final Broadcast<List<ModelBundle>> models;
    private final Broadcast<List<PurifierBundle>> purifiers;
    private final Broadcast<SerializableConfiguration> hadoopConf;

    TargetScorer(String cacheKey, String roundId, DatasetConfig dataset, List<Variant> variants, int batchSize, int threads,
            String device, Broadcast<List<ModelBundle>> models, Broadcast<List<PurifierBundle>> purifiers,
            Broadcast<SerializableConfiguration> hadoopConf) {
        this.cacheKey = cacheKey;
        this.roundId = roundId;
        this.dataset = dataset;
        this.variants = List.copyOf(variants);
        this.batchSize = batchSize;
        this.threads = threads;
        this.device = device;
        this.models = models;
        this.purifiers = purifiers;
        this.hadoopConf = hadoopConf;
    }

    @Override
    public Iterator<Row> call(Iterator<Item> items) throws Exception {
        Storage storage = Storage.of(hadoopConf.value().value());
        Device d = TaskDevice.forTask(device, threads);
        List<Row> out = new ArrayList<>();
        List<Loaded> pending = new ArrayList<>();
        try (ModelCache.Lease lease = ModelCache.acquire(cacheKey, models::value, purifiers::value, threads, d);
                NDManager manager = TorchRuntime.newManager(d)) {
            BatchScorer scorer = new BatchScorer(roundId, dataset, variants, storage, lease.ensemble(), lease.purifiers());
            while (items.hasNext()) {
                Loaded l = scorer.load(items.next());
                if (l.error() != null) {
                    LOG.warn("advspark evaluate: {}", l.error());
                    scorer.failed(l).forEach(r -> out.add(row(r)));
                    continue;
                }
                pending.add(l);
                if (pending.size() >= batchSize) {
                    scorer.score(pending, manager).forEach(r -> out.add(row(r)));
                    pending.clear();
                }
            }
            if (!pending.isEmpty()) {
                scorer.score(pending, manager).forEach(r -> out.add(row(r)));
            }
        }
        return out.iterator();
    }

    private static Row row(PassRow r) {
        return RowFactory.create(r.values());
    }
}
