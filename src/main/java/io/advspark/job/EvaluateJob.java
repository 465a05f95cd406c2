package io.advspark.job;

import static org.apache.spark.sql.functions.col;

import io.advspark.data.Storage;
import io.advspark.defense.DefenseChain;
import io.advspark.model.ModelBundle;
import io.advspark.model.ModelCache;
import io.advspark.model.ModelLoader;
import io.advspark.model.PurifierBundle;
import io.advspark.plan.ModelSpec;
import io.advspark.plan.RoundConfig;
import io.advspark.round.BatchScorer;
import io.advspark.round.EvalTables;
import io.advspark.round.RoundLayout;
import io.advspark.score.Outcome;
import io.advspark.score.Scoring;
import io.advspark.score.Wilson;
import io.advspark.vocabulary.ConfigException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver of {@code advspark evaluate}: scores a round's written PNGs (never float tensors) on
 * its held-out targets (models with role = target), each behind its defense chains, and writes
 * {@code <round>/predictions}, {@code <round>/scores} and {@code <round>/summary} (Parquet).
 *
 * <p>Two passes over the same broadcast of the target models (loaded once per executor JVM):
 * the clean images, once per (image, defended target) whatever the number of attack configs, and
 * the adversarial PNGs, once per (attack config, image, defended target); the predictions table
 * joins them on (image, target, defense).
 */
public final class EvaluateJob {
    private static final Logger LOG = LoggerFactory.getLogger(EvaluateJob.class);

    private EvaluateJob() {}

    public static EvaluationSummary run(RoundConfig config, SparkSession spark) {
        return run(config, spark, false);
    }

    /** Evaluates the round under its writer lease ({@code takeOver}: even from a live holder). */
    public static EvaluationSummary run(RoundConfig config, SparkSession spark, boolean takeOver) {
        return run(config, spark, takeOver, null);
    }

    /**
     * Adversarial PNGs that advspark did not write ({@code evaluate --adv-images}): a folder of
     * {@code <ImageId>} files for the round's manifest, scored as attack config {@code name}.
     */
    public record Foreign(String imagesUri, String name) implements java.io.Serializable {}

    /**
     * Evaluates the round's PNGs, or with {@code foreign} a folder of someone else's PNGs for the
     * round's manifest (the round folder is then created if needed and holds only the evaluation
     * tables). Missing, extra, wrong-size and undecodable PNGs are listed, not fatal.
     */
    public static EvaluationSummary run(RoundConfig config, SparkSession spark, boolean takeOver, Foreign foreign) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        io.advspark.round.RoundGuard.Options options = AttackJob.guardOptions(config, "evaluate", takeOver, false);
        if (foreign != null) {
            options = new io.advspark.round.RoundGuard.Options(options.command(), options.leaseTtl(), takeOver, false, true);
        }
        try (io.advspark.round.RoundGuard guard = io.advspark.round.RoundGuard.open(Storage.of(jsc.hadoopConfiguration()),
                RoundLayout.of(config), config.roundId(), options)) {
            guard.lease().onLost(() -> spark.sparkContext().cancelAllJobs());
            if (foreign != null) {
                return evaluate(config, spark, guard.storage(), foreign);
            }
            try {
                return evaluate(config, spark, guard.storage(), null);
            } catch (RuntimeException e) {
                guard.lease().check();
                throw e;
            }
        }
    }

    private static EvaluationSummary evaluate(RoundConfig config, SparkSession spark, Storage storage, Foreign foreign) {
        long t0 = System.nanoTime();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        String roundUri = config.roundUri();
        List<ModelSpec> targetSpecs = config.targets();
        if (targetSpecs.isEmpty()) {
            throw new ConfigException("round " + config.roundId() + " lists no target models (advspark.models with role = target)");
        }
        Scoring scoring = config.score();
        String recordsUri = Storage.join(roundUri, "records");
        try {
            if (foreign == null && !storage.exists(recordsUri)) {
                throw new ConfigException("no attack records at " + recordsUri + ": run `advspark attack` for this round first");
            }
        } catch (IOException e) {
            throw new ConfigException("cannot read " + recordsUri + ": " + e.getMessage(), e);
        }
        try {
            storage.checkWritable(roundUri); // a full or read-only store fails now, not after the scoring passes
        } catch (io.advspark.data.StoreWriteException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (IOException e) {
            throw new ConfigException(e.getMessage() + " (advspark.round.output)", e);
        }
        List<ModelBundle> bundles = ModelLoader.load(targetSpecs.stream().map(ModelSpec::source).toList(), storage, config.threads());
        checkClasses(config, storage, bundles);
        // What this evaluation scores, taken before the records are read; the old stamp goes
        // before the first table is replaced (an evaluation stopped halfway leaves none).
        EvaluationStamp stamp;
        try {
            stamp = foreign == null ? EvaluationStamp.of(config, storage, bundles) : null;
            EvaluationStamp.clear(config, storage);
        } catch (IOException e) {
            throw new ConfigException("cannot read " + recordsUri + ": " + e.getMessage(), e);
        }
        List<BatchScorer.Variant> variants = new ArrayList<>();
        for (int i = 0; i < targetSpecs.size(); i++) {
            for (DefenseChain d : targetSpecs.get(i).defenses()) {
                variants.add(new BatchScorer.Variant(i, bundles.get(i).card().name(), d));
            }
        }
        LOG.info("advspark evaluate: round {} - {} defended target(s): {}", config.roundId(), variants.size(),
                variants.stream().map(v -> v.target() + " [" + v.chain().spec() + "]").toList());

        List<String> names = foreign != null ? List.of(foreign.name())
                : config.attacks().stream().map(io.advspark.plan.NamedAttack::name).toList();
        Dataset<Row> records;
        List<Row> recs;
        if (foreign != null) {
            recs = ForeignImages.records(config, storage, foreign, bundles.get(0).card().datasetClasses());
            records = spark.createDataFrame(recs, ForeignImages.SCHEMA);
        } else {
            // A small round's records are read directly: a Spark read lists and reads the files'
            // footers to infer their schema and plans a query, seconds in a cold JVM.
            recs = recordsDirect(jsc.hadoopConfiguration(), recordsUri, names);
            if (recs != null) {
                records = spark.createDataFrame(recs, ForeignImages.SCHEMA);
            } else {
                records = spark.read().parquet(recordsUri).withColumn("attack", col("attack").cast("string"))
                        .where(col("error").isNull().and(col("attack").isin(names.toArray())))
                        .select("attack", "attack_spec", "image_id", "true_label", "target_label", "output_file");
                recs = records.collectAsList();
            }
        }
        if (recs.isEmpty()) {
            throw new ConfigException("no successfully attacked images of attack(s) " + names + " in " + recordsUri);
        }
        // The rows just collected serve the joins below: the record files are read once.
        records = spark.createDataFrame(recs, records.schema());
        List<BatchScorer.Item> adv = new ArrayList<>();
        java.util.Set<String> seen = new java.util.LinkedHashSet<>();
        for (Row r : recs) {
            // A foreign PNG's location is absolute; a round's PNG is relative to the round.
            String file = r.getString(5);
            adv.add(new BatchScorer.Item(r.getString(0), r.getString(2), foreign != null ? file : Storage.join(roundUri, file)));
            seen.add(r.getString(2));
        }
        List<BatchScorer.Item> clean = seen.stream().map(id -> new BatchScorer.Item(null, id, null)).toList();
        LOG.info("advspark evaluate: round {}: scoring {} PNG(s) of {} attack config(s) and {} clean image(s) on {} defended"
                + " target(s)", config.roundId(), adv.size(), names.size(), clean.size(), variants.size());
        List<PurifierBundle> purifierBundles = loadPurifiers(config, storage, variants, seen.iterator().next());

        Broadcast<List<ModelBundle>> models = jsc.broadcast(bundles);
        Broadcast<List<PurifierBundle>> purifiers = jsc.broadcast(purifierBundles);
        String cacheKey = jsc.sc().applicationId() + "/broadcast-" + models.id();
        Broadcast<SerializableConfiguration> hconf =
                jsc.broadcast(new SerializableConfiguration(jsc.hadoopConfiguration()));
        List<Dataset<Row>> persisted = new ArrayList<>();
        try {
            TargetScorer scorer = new TargetScorer(cacheKey, config.roundId(), config.dataset(), variants,
                    config.batchSize(), config.threads(), config.device(), models, purifiers, hconf);
            int slots = 4 * jsc.defaultParallelism();
            spark.sparkContext().setJobDescription("advspark evaluate " + config.roundId() + ": clean images");
            Dataset<Row> cleanDf = spark.createDataFrame(
                    jsc.parallelize(clean, partitions(clean.size(), config.batchSize(), slots)).mapPartitions(scorer),
                    SparkTables.struct(EvalTables.PASS)).drop("attack", "linf", "l2", "psnr");
            spark.sparkContext().setJobDescription("advspark evaluate " + config.roundId() + ": adversarial images");
            Dataset<Row> advDf = spark.createDataFrame(
                    jsc.parallelize(adv, partitions(adv.size(), config.batchSize(), slots)).mapPartitions(scorer),
                    SparkTables.struct(EvalTables.PASS));
            // Each pass runs once and feeds two tables; a lost block is recomputed (the passes are
            // deterministic), unlike with localCheckpoint.
            cleanDf = cleanDf.persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
            advDf = advDf.persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
            persisted.add(cleanDf);
            persisted.add(advDf);
            // Each pass is materialised on its own so that its cost is measured apart (the
            // persisted rows then feed the joins below at no extra cost).
            long tc = System.nanoTime();
            long cleanRows = cleanDf.count();
            double cleanSeconds = (System.nanoTime() - tc) / 1e9;
            long ta = System.nanoTime();
            long advRows = advDf.count();
            double advSeconds = (System.nanoTime() - ta) / 1e9;
            EvaluationSummary.Passes passes = new EvaluationSummary.Passes(clean.size(), adv.size(), variants.size(),
                    names.size(), cleanSeconds, advSeconds);
            LOG.info("advspark evaluate: clean pass {} rows in {} s, adversarial pass {} rows in {} s", cleanRows,
                    String.format(java.util.Locale.ROOT, "%.1f", cleanSeconds), advRows,
                    String.format(java.util.Locale.ROOT, "%.1f", advSeconds));

            double budget = scoring.budgetPixels();
            if (Double.isFinite(budget)) {
                // A PNG over the score's budget scores 0 on every target: said once, with the images.
                java.util.TreeSet<String> over = new java.util.TreeSet<>();
                for (Row r : advDf.where(col("error").isNull().and(col("linf").gt(budget)))
                        .select("attack", "image_id").distinct().collectAsList()) {
                    over.add(r.getString(0) + "/" + r.getString(1));
                }
                if (!over.isEmpty()) {
                    LOG.warn("advspark evaluate: {} image(s) exceed the L-inf budget {} of {} and score 0: {}", over.size(),
                            String.format(java.util.Locale.ROOT, "%.0f", budget), scoring.spec(), ForeignImages.list(over));
                }
            }
            // The joins and three table writes that follow take seconds of Spark planning: said, not silent.
            LOG.info("advspark evaluate: round {}: joining the predictions and writing the predictions, scores and summary"
                    + " tables", config.roundId());
            Dataset<Row> labels = records.select("attack", "attack_spec", "image_id", "true_label", "target_label");
            Dataset<Row> joined = advDf.alias("a")
                    .join(labels.alias("r"), new String[] {"attack", "image_id"})
                    .join(cleanDf.withColumnRenamed("top1", "clean_top1").withColumnRenamed("top5", "clean_top5")
                                    .withColumnRenamed("error", "clean_error")
                                    .withColumnRenamed("vote_margin", "clean_vote_margin"),
                            new String[] {"image_id", "target", "defense"}, "left")
                    .select("attack", "attack_spec", "image_id", "target", "defense", "true_label", "target_label", "clean_top1",
                            "clean_top5", "top1", "top5", "linf", "error", "clean_error", "clean_vote_margin", "vote_margin");
            String roundId = config.roundId();
            String scoreSpec = scoring.spec();
            java.util.HashMap<String, String[][]> chains = chainColumns(variants);
            JavaRDD<Row> predRows = joined.javaRDD().map(r -> predictionRow(roundId, scoreSpec, scoring, chains, r));
            String predictionsUri = storage.requireWritable(RoundLayout.of(config).output("predictions"));
            spark.sparkContext().setJobDescription("advspark evaluate " + config.roundId() + ": predictions");
            writeTable(predictionsUri, () -> spark.createDataFrame(predRows, SparkTables.struct(EvalTables.PREDICTIONS)).write()
                    .mode(SaveMode.Overwrite).partitionBy("attack").parquet(predictionsUri));
            Dataset<Row> predictions = spark.read().parquet(predictionsUri);

            // scores: one row per (attack config, image)
            Dataset<Row> perImage = predictions.where(col("error").isNull())
                    .groupBy("attack", "image_id")
                    .agg(org.apache.spark.sql.functions.collect_list("score").as("scores"));
            Dataset<Row> norms = advDf.where(col("error").isNull())
                    .join(labels.select("attack", "image_id", "attack_spec"), new String[] {"attack", "image_id"})
                    .groupBy("attack", "image_id")
                    .agg(org.apache.spark.sql.functions.first("attack_spec").as("attack_spec"),
                            org.apache.spark.sql.functions.first("linf").as("linf"),
                            org.apache.spark.sql.functions.first("l2").as("l2"),
                            org.apache.spark.sql.functions.first("psnr").as("psnr"));
            JavaRDD<Row> scoreRows = norms.join(perImage, new String[] {"attack", "image_id"}, "left")
                    .javaRDD().map(r -> {
                        List<Double> s = r.isNullAt(6) ? List.of() : r.getList(6);
                        return SparkTables.row(EvalTables.SCORES, roundId, r.getString(0), r.getString(2), r.getString(1), r.get(3), r.get(4),
                                r.get(5), s.size(), s.isEmpty() ? null : scoring.perImage(s), scoreSpec);
                    });
            spark.sparkContext().setJobDescription("advspark evaluate " + config.roundId() + ": scores");
            String scoresUri = storage.requireWritable(RoundLayout.of(config).output("scores"));
            writeTable(scoresUri, () -> spark.createDataFrame(scoreRows, SparkTables.struct(EvalTables.SCORES)).write()
                    .mode(SaveMode.Overwrite).partitionBy("attack").parquet(scoresUri));

            // summary: one row per (attack config, defended target)
            List<Row> agg = predictions.groupBy("attack", "attack_spec", "target", "defense").agg(
                            org.apache.spark.sql.functions.expr("count_if(error is null)"),
                            org.apache.spark.sql.functions.expr("count_if(error is null and clean_correct)"),
                            org.apache.spark.sql.functions.expr("count_if(error is null and untargeted_success)"),
                            org.apache.spark.sql.functions.expr("count_if(error is null and targeted_success)"),
                            org.apache.spark.sql.functions.expr("count_if(error is null and clean_correct and untargeted_success)"),
                            org.apache.spark.sql.functions.expr("count_if(error is null and clean_correct and targeted_success)"),
                            org.apache.spark.sql.functions.expr("avg(case when error is null then score end)"),
                            org.apache.spark.sql.functions.expr("count_if(error is not null)"))
                    .orderBy("attack", "target", "defense")
                    .collectAsList();
            List<Row> summary = new ArrayList<>();
            java.util.Map<String, io.advspark.plan.AttackConfig> attackConfigs = new java.util.HashMap<>();
            if (foreign == null) {
                config.attacks().forEach(a -> attackConfigs.put(a.name(), a.config()));
            }
            for (Row r : agg) {
                summary.add(summaryRow(roundId, scoreSpec, attackConfigs.get(r.getString(0)), chains, r));
            }
            String summaryUri = storage.requireWritable(RoundLayout.of(config).output("summary"));
            writeTable(summaryUri, () -> spark.createDataFrame(summary, SparkTables.struct(EvalTables.SUMMARY)).coalesce(1).write()
                    .mode(SaveMode.Overwrite).parquet(summaryUri));
            if (stamp != null) {
                try {
                    EvaluationStamp.write(config, storage, stamp);
                } catch (IOException e) {
                    // The tables are complete; without the stamp a rerun only evaluates again.
                    LOG.warn("advspark evaluate: could not write {}: {}", EvaluationStamp.uri(config), e.getMessage());
                }
            }
            java.util.Map<String, Double> roundScores = new java.util.TreeMap<>();
            for (Row r : spark.read().parquet(scoresUri).groupBy("attack").agg(
                    org.apache.spark.sql.functions.avg("score")).collectAsList()) {
                roundScores.put(r.getString(0), r.isNullAt(1) ? Double.NaN : r.getDouble(1));
            }
            return new EvaluationSummary(roundUri, scoreSpec, summary, roundScores, (System.nanoTime() - t0) / 1e9, passes);
        } finally {
            persisted.forEach(Dataset::unpersist);
            ModelCache.evict(cacheKey);
            models.destroy();
            purifiers.destroy();
            hconf.destroy();
        }
    }

    /**
     * Runs Spark's writer of the table {@code uri}: a store that is full or read-only fails it with
     * an I/O error that names no path, rethrown here as a {@link io.advspark.data.StoreWriteException}
     * naming the table, which the launcher reports in one line.
     */
    private static void writeTable(String uri, Runnable write) {
        try {
            write.run();
        } catch (Exception e) { // SparkException is checked, though Scala throws it undeclared
            java.util.Optional<io.advspark.data.StoreWriteException> w = io.advspark.data.StoreWriteException.behind(uri, e);
            if (w.isPresent()) {
                throw new java.io.UncheckedIOException(w.get());
            }
            throw e;
        }
    }

    /**
     * Reads and checks every purifier the defense chains name (once per file), before any scoring
     * pass: probed on the round's first clean image after the chain's image stages (the size the
     * purifier will see) and on noise of that size ({@link ModelLoader#loadPurifier}).
     */
    static List<PurifierBundle> loadPurifiers(RoundConfig config, Storage storage, List<BatchScorer.Variant> variants,
            String firstImageId) {
        java.util.Map<String, PurifierBundle> out = new java.util.LinkedHashMap<>();
        for (BatchScorer.Variant v : variants) {
            for (String path : v.chain().purifierPaths()) {
                if (out.containsKey(path)) {
                    continue;
                }
                io.advspark.data.RgbImage sample;
                try {
                    sample = BatchScorer.readClean(storage, config.dataset(), firstImageId);
                } catch (IOException e) {
                    throw new ConfigException("cannot read a clean image to probe purifier " + path + ": " + e.getMessage(), e);
                }
                sample = v.chain().apply(sample, new java.util.Random(0));
                out.put(path, ModelLoader.loadPurifier(path, storage, sample));
                LOG.info("advspark evaluate: purifier {} checked on a {}x{} image", path, sample.height(), sample.width());
            }
        }
        return List.copyOf(out.values());
    }

    /** Targets must speak the surrogates' (and so the manifest's) label space. */
    static void checkClasses(RoundConfig config, Storage storage, List<ModelBundle> targets) {
        checkClasses(config, storage, targets, "target");
    }

    /** As {@link #checkClasses(RoundConfig, Storage, List)} for models of another {@code role} (in messages). */
    static void checkClasses(RoundConfig config, Storage storage, List<ModelBundle> targets, String role) {
        if (config.surrogates().isEmpty()) { // scoring someone else's PNGs: the targets agree among themselves
            for (ModelBundle b : targets) {
                if (b.card().datasetClasses() != targets.get(0).card().datasetClasses()) {
                    throw new ConfigException(role + " " + b.uri() + " has dataset_classes=" + b.card().datasetClasses()
                            + " but " + targets.get(0).uri() + " has " + targets.get(0).card().datasetClasses()
                            + ": they must share the dataset's labels");
                }
            }
            return;
        }
        ModelSpec first = config.surrogates().get(0);
        int classes;
        try {
            classes = io.advspark.model.ModelCard.parse(storage.readAll(first.card()), first.card()).datasetClasses();
        } catch (IOException e) {
            throw new ConfigException("model card " + first.card() + ": " + e.getMessage(), e);
        }
        for (ModelBundle b : targets) {
            if (b.card().datasetClasses() != classes) {
                throw new ConfigException(role + " " + b.uri() + " has dataset_classes=" + b.card().datasetClasses()
                        + " but the surrogates (" + first.card() + ") have " + classes + ": they must share the dataset's labels");
            }
        }
    }

    private static int partitions(int items, int batch, int slots) {
        return (int) Math.max(1, Math.min((items + batch - 1) / batch, slots));
    }

    /**
     * Each defended target's chain as the tables' structured columns, by its canonical spec:
     * {@code defense_names} and {@code defense_params} ({@link DefenseChain#stageNames()},
     * {@link DefenseChain#stageParams()}).
     */
    static java.util.HashMap<String, String[][]> chainColumns(List<BatchScorer.Variant> variants) {
        java.util.HashMap<String, String[][]> out = new java.util.HashMap<>();
        for (BatchScorer.Variant v : variants) {
            out.put(v.chain().spec(), new String[][] {v.chain().stageNames().toArray(new String[0]),
                    v.chain().stageParams().toArray(new String[0])});
        }
        return out;
    }

    private static String[][] chainOf(java.util.Map<String, String[][]> chains, String defense) {
        String[][] c = chains.get(defense);
        if (c == null) {
            throw new IllegalStateException("defense chain '" + defense + "' is none of the round's: " + chains.keySet());
        }
        return c;
    }

    private static Row predictionRow(String roundId, String scoreSpec, Scoring scoring,
            java.util.Map<String, String[][]> chains, Row r) {
        int y = r.getInt(5);
        int t = r.getInt(6);
        Integer cleanTop1 = r.isNullAt(7) ? null : r.getInt(7);
        List<Integer> cleanTop5 = r.isNullAt(8) ? null : r.getList(8);
        Integer advTop1 = r.isNullAt(9) ? null : r.getInt(9);
        List<Integer> advTop5 = r.isNullAt(10) ? null : r.getList(10);
        Integer linf = r.isNullAt(11) ? null : r.getInt(11);
        String error = !r.isNullAt(12) ? r.getString(12)
                : !r.isNullAt(13) ? "clean image: " + r.getString(13)
                : cleanTop1 == null ? "no clean prediction" : null;
        Double score = error == null && advTop1 != null && linf != null
                ? scoring.perTarget(new Outcome(y, t, advTop1, linf)) : null;
        return SparkTables.row(EvalTables.PREDICTIONS, roundId, r.getString(0), r.getString(1), r.getString(2), r.getString(3),
                r.getString(4), y, t,
                cleanTop1, cleanTop5 == null ? null : cleanTop5.toArray(new Integer[0]),
                advTop1, advTop5 == null ? null : advTop5.toArray(new Integer[0]),
                cleanTop1 == null ? null : cleanTop1 == y,
                cleanTop5 == null ? null : cleanTop5.contains(y),
                advTop1 == null ? null : advTop1 != y,
                advTop1 == null ? null : advTop1 == t,
                advTop5 == null ? null : advTop5.contains(y),
                advTop5 == null ? null : advTop5.contains(t),
                linf, score, scoreSpec, error,
                r.isNullAt(14) ? null : r.getDouble(14),
                r.isNullAt(15) ? null : r.getDouble(15),
                chainOf(chains, r.getString(4))[0], chainOf(chains, r.getString(4))[1]);
    }

    /**
     * A summary row of an aggregate row (attack, attack_spec, target, defense, then the counts);
     * {@code attack} is the attack config (null for scored foreign PNGs: no eps or steps).
     */
    static Row summaryRow(String roundId, String scoreSpec, io.advspark.plan.AttackConfig attack,
            java.util.Map<String, String[][]> chains, Row r) {
        long n = r.getLong(4);
        long correct = r.getLong(5);
        long unt = r.getLong(6);
        long tgt = r.getLong(7);
        long untC = r.getLong(8);
        long tgtC = r.getLong(9);
        Wilson wc = Wilson.interval(correct, n);
        Wilson wu = Wilson.interval(unt, n);
        Wilson wt = Wilson.interval(tgt, n);
        Wilson wuc = Wilson.interval(untC, correct);
        Wilson wtc = Wilson.interval(tgtC, correct);
        String[][] chain = chainOf(chains, r.getString(3));
        return SparkTables.row(EvalTables.SUMMARY, roundId, r.getString(0), r.getString(1),
                attack == null ? null : attack.epsPixels(), attack == null ? null : attack.steps(),
                r.getString(2), r.getString(3), chain[0], chain[1], n, correct,
                rate(correct, n), wc.low(), wc.high(), rate(unt, n), wu.low(), wu.high(), rate(tgt, n), wt.low(), wt.high(),
                rate(untC, correct), wuc.low(), wuc.high(), rate(tgtC, correct), wtc.low(), wtc.high(),
                r.isNullAt(10) ? null : r.getDouble(10), scoreSpec, r.getLong(11));
    }

    private static double rate(long k, long n) {
        return n == 0 ? 0 : (double) k / n;
    }

    /**
     * The error-free records of {@code names} as (attack, attack_spec, image_id, true_label,
     * target_label, output_file) rows, read from the files directly; null when there are more than
     * {@link AttackJob#DIRECT_SUMMARY_FILES} files (a Spark query reads those in parallel).
     */
    static List<Row> recordsDirect(org.apache.hadoop.conf.Configuration conf, String recordsUri, List<String> names) {
        Storage storage = Storage.of(conf);
        List<Row> out = new ArrayList<>();
        try {
            java.util.Map<String, List<String>> files = AttackJob.fewRecordFiles(storage, recordsUri, names);
            if (files == null) {
                return null;
            }
            for (String n : names) {
                for (java.util.Map<String, Object> r : io.advspark.round.ParquetRows.read(conf,
                        AttackJob.attackRecords(recordsUri, n), files.get(n))) {
                    if (r.get("error") == null) {
                        out.add(org.apache.spark.sql.RowFactory.create(n, r.get("attack_spec"), r.get("image_id"),
                                r.get("true_label"), r.get("target_label"), r.get("output_file")));
                    }
                }
            }
        } catch (java.io.IOException e) {
            throw new ConfigException("cannot read " + recordsUri + ": " + e.getMessage(), e);
        }
        return out;
    }
}
