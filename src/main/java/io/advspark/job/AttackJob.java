package io.advspark.job;

import io.advspark.attack.Attack;
import io.advspark.config.ConfigException;
import io.advspark.config.RoundConfig;
import io.advspark.data.Manifest;
import io.advspark.data.ManifestRow;
import io.advspark.data.Storage;
import io.advspark.model.ModelBundle;
import io.advspark.model.ModelCache;
import io.advspark.model.TorchRuntime;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver of an attack round: checks everything that can be checked before work starts
 * (output store, manifest, models), broadcasts the models once, attacks partitions of the
 * manifest on executors and writes {@code <round>/images/*.png} and {@code <round>/records}.
 */
public final class AttackJob {
    private static final Logger LOG = LoggerFactory.getLogger(AttackJob.class);

    private AttackJob() {}

    public static RoundSummary run(RoundConfig config, SparkSession spark) {
        long t0 = System.nanoTime();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Storage storage = new Storage(jsc.hadoopConfiguration());
        String roundUri = config.roundUri();

        Prepared prepared = prepare(config, storage);
        List<ModelBundle> bundles = prepared.bundles();
        List<ManifestRow> rows = prepared.rows();
        long bad = rows.stream().filter(r -> !r.ok()).count();
        LOG.info("advspark: round {} - {} manifest rows ({} unusable), {} surrogate(s): {}", config.roundId(), rows.size(),
                bad, bundles.size(), bundles.stream().map(b -> b.card().name()).toList());
        if (rows.isEmpty()) {
            throw new ConfigException("manifest " + manifestUri(config) + " has no rows");
        }

        int partitions = config.dataset().partitions() > 0
                ? config.dataset().partitions()
                : (int) Math.max(1, Math.min(
                        (rows.size() + config.batchSize() - 1) / config.batchSize(),
                        4L * jsc.defaultParallelism()));
        Broadcast<List<ModelBundle>> models = jsc.broadcast(bundles);
        // Broadcast ids restart with every SparkContext: the application id makes the key unique
        // in JVMs that outlive one context (local mode, tests, notebooks).
        String cacheKey = jsc.sc().applicationId() + "/broadcast-" + models.id();
        Broadcast<SerializableConfiguration> hconf =
                jsc.broadcast(new SerializableConfiguration(jsc.hadoopConfiguration()));
        LongAccumulator done = jsc.sc().longAccumulator("advspark.images.done");
        LongAccumulator failed = jsc.sc().longAccumulator("advspark.images.failed");
        ProgressListener progress = new ProgressListener(rows.size(), done, failed);
        spark.sparkContext().addSparkListener(progress);
        try {
            JavaRDD<ManifestRow> rdd = jsc.parallelize(rows, partitions);
            JavaRDD<Row> records =
                    rdd.mapPartitions(new PartitionAttacker(cacheKey, config, models, hconf, done, failed)
                            .withGuides(prepared.guides()));
            spark.sparkContext().setJobDescription("advspark attack " + config.roundId());
            Dataset<Row> df = spark.createDataFrame(records, RecordSchema.SCHEMA);
            String recordsUri = Storage.join(roundUri, "records");
            df.write().mode(SaveMode.Overwrite).parquet(recordsUri);
            return summarise(spark, roundUri, recordsUri, (System.nanoTime() - t0) / 1e9);
        } finally {
            spark.sparkContext().removeSparkListener(progress);
            ModelCache.evict(cacheKey); // the driver's copy in local mode; executors end with the app
            models.destroy();
            hconf.destroy();
        }
    }

    /** Runs every check of {@link #run} that precedes the attack, without writing images. */
    public static void check(RoundConfig config, SparkSession spark) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<ManifestRow> rows = prepare(config, new Storage(jsc.hadoopConfiguration())).rows();
        rows.stream().filter(r -> !r.ok()).forEach(r -> LOG.warn("advspark: {}", r.error()));
    }

    /**
     * The surrogates and manifest of a round, after the checks that precede any work, and the
     * guide image of each class (label -> ImageId) when the attack's start needs guides, else null.
     */
    private record Prepared(List<ModelBundle> bundles, List<ManifestRow> rows, Map<Integer, String> guides) {}

    /** Output store writable, models loadable and as their cards say, manifest read. */
    private static Prepared prepare(RoundConfig config, Storage storage) {
        try {
            storage.checkWritable(config.roundUri());
        } catch (IOException e) {
            throw new ConfigException(e.getMessage() + " (advspark.round.output)", e);
        }
        List<ModelBundle> bundles = ModelLoader.load(config.surrogates(), storage, config.threads(), config.attack().augment());
        int classes = bundles.get(0).card().datasetClasses();
        List<ManifestRow> rows = readManifest(config, storage, classes);
        Map<Integer, String> guides = null;
        Attack attack = Attack.fromConfig(config.attack());
        if (attack.init().needsGuides()) {
            // From the whole manifest, so that an image's start does not depend on dataset.limit.
            guides = guideIds(config.dataset().limit() > 0 ? readManifest(config, storage, classes, 0) : rows);
            TreeSet<Integer> missing = new TreeSet<>();
            long images = 0;
            for (ManifestRow r : rows) {
                if (r.ok() && !guides.containsKey(r.targetLabel())) {
                    missing.add(r.targetLabel());
                    images++;
                }
            }
            if (!missing.isEmpty()) {
                LOG.warn("advspark: init {}: the manifest has no usable image of target class(es) {}; their {} image(s)"
                        + " start from the clean image (zeros start)", attack.init().spec(), missing, images);
            }
        }
        return new Prepared(bundles, rows, guides);
    }

    /**
     * The guide image of each label: the smallest ImageId (String order) among the usable rows
     * with that TrueLabel (labels in the dataset's convention).
     */
    public static Map<Integer, String> guideIds(List<ManifestRow> rows) {
        Map<Integer, String> out = new TreeMap<>();
        for (ManifestRow r : rows) {
            if (r.ok()) {
                out.merge(r.trueLabel(), r.imageId(), (a, b) -> a.compareTo(b) <= 0 ? a : b);
            }
        }
        return out;
    }

    static String manifestUri(RoundConfig config) {
        return Storage.join(config.dataset().uri(), config.dataset().manifest());
    }

    static List<ManifestRow> readManifest(RoundConfig config, Storage storage, int classes) {
        return readManifest(config, storage, classes, config.dataset().limit());
    }

    static List<ManifestRow> readManifest(RoundConfig config, Storage storage, int classes, int limit) {
        String uri = manifestUri(config);
        try (InputStream in = storage.open(uri)) {
            return Manifest.parse(in, uri, config.dataset().labelBase(), classes, limit);
        } catch (FileNotFoundException e) {
            throw new ConfigException("manifest not found: " + uri + " (advspark.dataset.uri / manifest)", e);
        } catch (IOException e) {
            throw new ConfigException("cannot read manifest " + uri + ": " + e.getMessage(), e);
        }
    }

    static RoundSummary summarise(SparkSession spark, String roundUri, String recordsUri, double seconds) {
        Dataset<Row> r = spark.read().parquet(recordsUri);
        Row agg = r.selectExpr(
                        "count(*)",
                        "sum(case when error is not null then 1 else 0 end)",
                        "avg(case when error is null then cast(untargeted_success as int) end)",
                        "avg(case when error is null then cast(targeted_success as int) end)",
                        "avg(l2)",
                        "max(linf)")
                .first();
        return new RoundSummary(
                roundUri,
                agg.getLong(0),
                agg.isNullAt(1) ? 0 : agg.getLong(1),
                agg.isNullAt(2) ? 0 : agg.getDouble(2),
                agg.isNullAt(3) ? 0 : agg.getDouble(3),
                agg.isNullAt(4) ? 0 : agg.getDouble(4),
                agg.isNullAt(5) ? 0 : agg.getInt(5),
                seconds);
    }

    /** Starts the engine on the driver early so its one-off native extraction is not billed to tasks. */
    static void warmUp(RoundConfig config) {
        TorchRuntime.start(config.threads());
    }
}
