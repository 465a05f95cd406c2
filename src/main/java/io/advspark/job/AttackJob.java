package io.advspark.job;

import io.advspark.attack.Attack;
import io.advspark.attack.augment.Augments;
import io.advspark.data.DatasetLayout;
import io.advspark.data.Manifest;
import io.advspark.data.ManifestRow;
import io.advspark.data.Storage;
import io.advspark.model.ActivationMemory;
import io.advspark.model.ModelBundle;
import io.advspark.model.ModelCache;
import io.advspark.model.ModelLoader;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.MemorySettings;
import io.advspark.plan.NamedAttack;
import io.advspark.plan.RoundConfig;
import io.advspark.round.AttackRow;
import io.advspark.round.Provenance;
import io.advspark.round.RecordTables;
import io.advspark.round.RoundGuard;
import io.advspark.round.RoundLayout;
import io.advspark.vocabulary.ConfigException;
import io.advspark.vocabulary.Spec;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
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

    private static String fmt(double seconds) {
        return String.format(java.util.Locale.ROOT, "%.1f", seconds);
    }

    public static RoundSummary run(RoundConfig config, SparkSession spark) {
        return run(config, spark, false);
    }

    public static RoundSummary run(RoundConfig config, SparkSession spark, boolean force) {
        return run(config, spark, new Options(force, false, false), s -> {});
    }

    public static RoundSummary run(RoundConfig config, SparkSession spark, boolean force, boolean verify) {
        return run(config, spark, new Options(force, false, verify), s -> {});
    }

    /**
     * How a launcher runs a round.
     *
     * @param force remove the round's outputs first and redo everything
     * @param takeOver take the round's writer lease even from a live holder
     * @param verify when resuming, also read every committed PNG, check its checksum and decode it
     *     (see {@link RoundState#scan}); a plain resume checks that each PNG has its recorded length
     */
    public record Options(boolean force, boolean takeOver, boolean verify) {}

    /**
     * Runs the round's attack configurations over its manifest. A rerun resumes: an (image,
     * attack) committed by an earlier run is skipped (see {@link RoundState}); {@code force}
     * first removes every output of the round and redoes it all. The round is held under its
     * writer lease from the first write to the end ({@link RoundGuard}), {@code thenUnderLease}
     * included.
     */
    public static RoundSummary run(RoundConfig config, SparkSession spark, Options options,
            java.util.function.Consumer<RoundSummary> thenUnderLease) {
        long t0 = System.nanoTime();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Storage unfenced = Storage.of(jsc.hadoopConfiguration());
        Prepared prepared = prepare(config, unfenced);
        checkMemory(config, spark, prepared); // before the round's folder is touched
        try (RoundGuard guard = RoundGuard.open(unfenced, RoundLayout.of(config), config.roundId(), guardOptions(config, "attack",
                options.takeOver(), options.force()))) {
            guard.lease().onLost(() -> spark.sparkContext().cancelAllJobs());
            try {
                RoundSummary summary = attack(config, spark, guard.storage(), prepared, t0, options.verify());
                // E.g. the evaluation of the same command: no other launcher gets in between.
                thenUnderLease.accept(summary);
                return summary;
            } catch (RuntimeException e) {
                guard.lease().check(); // a lost lease explains the failure better than "job cancelled"
                throw e;
            }
        }
    }

    /** How a command of this round opens it for writing. */
    public static RoundGuard.Options guardOptions(RoundConfig config, String command, boolean takeOver, boolean force) {
        return new RoundGuard.Options(command, java.time.Duration.ofSeconds(config.leaseSeconds()), takeOver, force,
                command.equals("attack"));
    }

    private static RoundSummary attack(RoundConfig config, SparkSession spark, Storage storage, Prepared prepared, long t0,
            boolean verify) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        String roundUri = config.roundUri();
        double checksSeconds = (System.nanoTime() - t0) / 1e9;
        List<ModelBundle> bundles = prepared.bundles();
        List<ManifestRow> rows = prepared.rows();
        long bad = rows.stream().filter(r -> !r.ok()).count();
        List<String> names = config.attacks().stream().map(NamedAttack::name).toList();
        LOG.info("advspark: round {} - {} manifest rows ({} unusable), {} surrogate(s): {}, {} attack config(s): {}",
                config.roundId(), rows.size(), bad, bundles.size(), bundles.stream().map(b -> b.card().name()).toList(),
                names.size(), names);
        if (rows.isEmpty()) {
            throw new ConfigException("manifest " + manifestUri(config) + " has no rows");
        }
        // What runs (attacks, and each budget search's attempts) and what is committed under a
        // name (those, and each search's own rows): the resume scan checks all of their identities.
        List<NamedAttack> runnable = config.runnable();
        List<NamedAttack> scanned = new ArrayList<>(runnable);
        Map<String, Attack> built = new LinkedHashMap<>(prepared.attacks());
        for (NamedAttack a : runnable) {
            built.computeIfAbsent(a.name(), k -> a.config().toAttack());
        }
        List<NamedAttack> searches = config.attacks().stream().filter(a -> !runnable.contains(a)).toList();
        scanned.addAll(searches);
        Map<String, String> specs = new LinkedHashMap<>();
        scanned.forEach(a -> specs.put(a.name(), config.identity(a, built.get(a.name()))));
        long ts = System.nanoTime();
        RoundState.Committed committed = RoundState.scan(spark, storage, roundUri, scanned, specs,
                prepared.provenance(), verify);
        long tt = System.nanoTime();
        writeAttacksTable(storage, config, scanned, built, prepared.provenance());
        double scanSeconds = (tt - ts) / 1e9;
        double tableSeconds = (System.nanoTime() - tt) / 1e9;
        String recordsUri = RoundLayout.at(roundUri).records();
        long resumed = committed.doneCount();
        // What the summary counts as skipped: rows of the round's own attack names (a search's
        // attempts are not rows of the summary).
        RoundState.Committed first = committed;
        long resumedRows = names.stream().mapToLong(n -> first.done().get(n).size()).sum();
        Broadcasts shared = new Broadcasts(jsc, prepared);
        RunMetrics metrics = null;
        ProgressListener lastProgress = null;
        RunMetrics.Attempts taskAttempts = null; // summed over the waves of a search
        int waves = 0;
        double startup = 0;
        try {
            java.util.Set<String> attempts = new java.util.HashSet<>();
            for (NamedAttack s : searches) {
                s.config().search().epsPixels().forEach(e -> attempts.add(io.advspark.plan.ScoreAware.attemptName(s.name(), e)));
            }
            List<String> plain = runnable.stream().map(NamedAttack::name).filter(n -> !attempts.contains(n)).toList();
            java.util.Set<String> asked = new java.util.HashSet<>();
            for (int wave = 1;; wave++) {
                SearchWaves.Next next = searches.isEmpty() ? SearchWaves.Next.NONE
                        : SearchWaves.next(spark, storage, config, searches, rows, committed, recordsUri, specs, asked);
                if (!next.finals().isEmpty()) {
                    SearchWaves.commitFinals(jsc, config, next.finals(), shared.hadoopConf(), prepared.provenance());
                }
                List<WorkItem> work = new ArrayList<>();
                long units = 0;
                for (ManifestRow r : rows) {
                    List<String> todo = new ArrayList<>();
                    for (String a : wave == 1 ? plain : List.<String>of()) {
                        if (!(r.ok() && committed.done().get(a).contains(r.imageId()))) {
                            todo.add(a);
                        }
                    }
                    todo.addAll(next.attempts().getOrDefault(r.imageId() + "@" + r.rowNumber(), List.of()));
                    if (!todo.isEmpty()) {
                        work.add(new WorkItem(r, todo));
                        units += todo.size();
                    }
                }
                if (wave == 1 && resumed > 0) {
                    LOG.info("advspark: resuming round {}: {} (image, attack) pairs committed by an earlier run are skipped,"
                            + " {} to do", config.roundId(), resumed, units);
                }
                if (work.isEmpty()) {
                    if (!next.finals().isEmpty()) {
                        committed = RoundState.rescan(spark, storage, roundUri, scanned, specs, prepared.provenance());
                        continue; // the finals just written: the next pass finds nothing left
                    }
                    if (wave == 1) {
                        LOG.info("advspark: round {} is complete: nothing to do (--force redoes it)", config.roundId());
                    }
                    break;
                }
                if (!searches.isEmpty()) {
                    LOG.info("advspark: round {}: wave {}: {} (image, attack) pairs, {} of them search attempts",
                            config.roundId(), wave, units, units - work.stream().mapToLong(
                                    w -> w.attacks().stream().filter(plain::contains).count()).sum());
                }
                JavaRDD<WorkItem> workRdd;
                if (config.dataset().partitions() > 0) {
                    workRdd = jsc.parallelize(work, config.dataset().partitions());
                } else {
                    List<List<WorkItem>> chunks = WorkSplit.split(work, config.batchSize(), jsc.defaultParallelism());
                    LOG.info("advspark: round {}: {} images in {} partitions for {} slots (batch {}): {}", config.roundId(),
                            work.size(), chunks.size(), jsc.defaultParallelism(), config.batchSize(),
                            WorkSplit.describe(chunks));
                    // One chunk per partition, in this order (Spark launches partitions in index order).
                    workRdd = jsc.parallelize(chunks, chunks.size()).flatMap(List::iterator);
                }
                shared.open();
                LongAccumulator done = jsc.sc().longAccumulator("advspark.images.done");
                LongAccumulator failed = jsc.sc().longAccumulator("advspark.images.failed");
                ProgressListener progress = new ProgressListener(units, done, failed);
                metrics = metrics == null ? RunMetrics.register(jsc.sc()) : metrics;
                spark.sparkContext().addSparkListener(progress);
                try {
                    spark.sparkContext().setJobDescription("advspark attack " + config.roundId()
                            + (searches.isEmpty() ? "" : " (wave " + wave + ")"));
                    if (wave == 1) {
                        startup = (System.nanoTime() - t0) / 1e9;
                    }
                    workRdd.foreachPartition(new PartitionAttacker(shared.cacheKey(), config, shared.models(),
                            shared.hadoopConf(), done, failed).withGuides(prepared.guides()).withMetrics(metrics)
                            .withProvenance(prepared.provenance()).withValidation(shared.validation()));
                    progress.awaitJobEnd(5_000);
                } finally {
                    spark.sparkContext().removeSparkListener(progress);
                }
                lastProgress = progress;
                taskAttempts = taskAttempts == null ? progress.attempts() : taskAttempts.plus(progress.attempts());
                waves++;
                if (searches.isEmpty()) {
                    break;
                }
                committed = RoundState.rescan(spark, storage, roundUri, scanned, specs, prepared.provenance());
            }
            RoundSummary summary = summarise(spark, config, recordsUri, (System.nanoTime() - t0) / 1e9, resumedRows);
            if (lastProgress == null) {
                return summary;
            }
            // Task windows are relative to one attack job's submission: shown for a single job only.
            RunMetrics.Timings timings = metrics.timings().withTasks(taskAttempts,
                    waves == 1 ? lastProgress.windows() : java.util.Map.of());
            // In a fresh application the attack job is the first Spark job: it also waits for the
            // executors to start, which shows as the start of each executor's task window.
            LOG.info("advspark: round {}: {} s before the attack job: checks of manifest and models {} s, resume scan {} s,"
                            + " attacks table {} s, broadcast {} s",
                    config.roundId(), fmt(startup), fmt(checksSeconds), fmt(scanSeconds), fmt(tableSeconds),
                    fmt(startup - checksSeconds - scanSeconds - tableSeconds));
            return summary.withTimings(timings);
        } finally {
            shared.close();
        }
    }

    /**
     * The round's broadcasts, made when the first wave needs them and kept for every wave (one
     * model load per executor for the whole round): surrogates, Hadoop configuration, validation.
     */
    private static final class Broadcasts implements AutoCloseable {
        private final JavaSparkContext jsc;
        private final Prepared prepared;
        private Broadcast<List<ModelBundle>> models;
        private Broadcast<SerializableConfiguration> hconf;
        private PartitionAttacker.Validation validation;
        private String cacheKey;

        Broadcasts(JavaSparkContext jsc, Prepared prepared) {
            this.jsc = jsc;
            this.prepared = prepared;
        }

        void open() {
            if (models != null) {
                return;
            }
            models = jsc.broadcast(prepared.bundles());
            // Broadcast ids restart with every SparkContext: the application id makes the key unique
            // in JVMs that outlive one context (local mode, tests, notebooks).
            cacheKey = jsc.sc().applicationId() + "/broadcast-" + models.id();
            hadoopConf();
            if (prepared.validation() != null) {
                Broadcast<List<ModelBundle>> vm = jsc.broadcast(prepared.validation().bundles());
                validation = new PartitionAttacker.Validation(jsc.sc().applicationId() + "/broadcast-" + vm.id(), vm,
                        jsc.broadcast(prepared.validation().purifiers()), prepared.validation().variants());
            }
        }

        Broadcast<List<ModelBundle>> models() {
            return models;
        }

        String cacheKey() {
            return cacheKey;
        }

        Broadcast<SerializableConfiguration> hadoopConf() {
            if (hconf == null) {
                hconf = jsc.broadcast(new SerializableConfiguration(jsc.hadoopConfiguration()));
            }
            return hconf;
        }

        PartitionAttacker.Validation validation() {
            return validation;
        }

        @Override
        public void close() {
            // The driver's copy in local mode; an executor closes its copy when the next job's models load there.
            if (models != null) {
                ModelCache.evict(cacheKey);
                models.destroy();
            }
            if (hconf != null) {
                hconf.destroy();
            }
            if (validation != null) {
                ModelCache.evict(validation.cacheKey());
                validation.models().destroy();
                validation.purifiers().destroy();
            }
        }
    }

    /**
     * {@code <round>/attacks}: one row per attack configuration, its name, spec and settings. One
     * atomic file written here on the driver, like a batch's record file, and not by a Spark job:
     * the attack's tasks then start as soon as the executors are up, not after a one-task job.
     */
    private static void writeAttacksTable(Storage storage, RoundConfig config, List<NamedAttack> attacks,
            Map<String, Attack> parts, Provenance provenance) {
        List<Row> out = new ArrayList<>();
        for (NamedAttack a : attacks) {
            out.add(RowFactory.create(AttackRow.of(a.name(), config.identity(a, parts.get(a.name())), a.config(),
                    parts.get(a.name()), provenance).values()));
        }
        String dir = RoundLayout.of(config).output("attacks");
        String file = "part-00000.snappy.parquet";
        try {
            ParquetFiles.write(storage, Storage.join(dir, file), SparkTables.struct(RecordTables.ATTACKS), out);
            // What an earlier run's Spark writer left under other names.
            for (String n : storage.listFileNames(dir)) {
                if (!n.equals(file)) {
                    storage.delete(Storage.join(dir, n), false);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + Storage.redact(dir) + ": " + e.getMessage(), e);
        }
    }

    /**
     * Runs every check of {@link #run} that precedes the attack, without writing images.
     *
     * @return the manifest rows that are unusable (each would be recorded as failed)
     */
    public static long check(RoundConfig config, SparkSession spark) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Prepared prepared = prepare(config, Storage.of(jsc.hadoopConfiguration()));
        checkMemory(config, spark, prepared);
        List<ManifestRow> rows = prepared.rows();
        long bad = rows.stream().filter(r -> !r.ok()).count();
        if (bad > 0) {
            LOG.warn("advspark: {} of {} manifest rows are unusable and would be recorded as failed{}", bad, rows.size(),
                    firstProblems(rows));
        }
        return bad;
    }

    /** The first few rows' problems, for one line about many rows. */
    static String firstProblems(List<ManifestRow> rows) {
        List<String> errors = rows.stream().filter(r -> !r.ok()).map(ManifestRow::error).toList();
        int shown = Math.min(3, errors.size());
        return shown == 0 ? "" : ": " + String.join("; ", errors.subList(0, shown))
                + (errors.size() > shown ? "; and " + (errors.size() - shown) + " more" : "");
    }

    /**
     * The surrogates and manifest of a round, after the checks that precede any work, and the
     * guide image of each class (label -> ImageId) when the attack's start needs guides, else null.
     */
    private record Prepared(List<ModelBundle> bundles, List<ManifestRow> rows, Map<Integer, String> guides,
            Map<String, Attack> attacks, Provenance provenance, ActivationMemory measured, long imagePixels,
            ValidationModels validation) {}

    /** The validation models, loaded and checked on the driver, when an attack queries them (else null). */
    private record ValidationModels(List<ModelBundle> bundles, List<io.advspark.model.PurifierBundle> purifiers,
            List<io.advspark.round.BatchScorer.Variant> variants) {}

    /**
     * Loads the validation models when an attack stops or searches on them: same label space as
     * the surrogates, purifiers probed on the first image, one variant per defense chain.
     */
    private static ValidationModels loadValidation(RoundConfig config, Storage storage, List<ManifestRow> rows) {
        if (config.attacks().stream().noneMatch(a -> a.config().usesValidation())) {
            if (!config.validation().isEmpty()) {
                LOG.warn("advspark: round {} lists {} validation model(s) but no attack stops or searches on them"
                        + " (attack.stop / attack.search until = \"validation\"): they are not loaded", config.roundId(),
                        config.validation().size());
            }
            return null;
        }
        List<io.advspark.plan.ModelSpec> specs = config.validation();
        List<ModelBundle> bundles = ModelLoader.load(specs.stream().map(io.advspark.plan.ModelSpec::source).toList(), storage,
                config.threads());
        EvaluateJob.checkClasses(config, storage, bundles, "validation model");
        List<io.advspark.round.BatchScorer.Variant> variants = new ArrayList<>();
        for (int i = 0; i < specs.size(); i++) {
            for (io.advspark.defense.DefenseChain d : specs.get(i).defenses()) {
                variants.add(new io.advspark.round.BatchScorer.Variant(i, bundles.get(i).card().name(), d));
            }
        }
        String first = rows.stream().filter(ManifestRow::ok).map(ManifestRow::imageId).findFirst().orElse(null);
        List<io.advspark.model.PurifierBundle> purifiers = first == null ? List.of()
                : EvaluateJob.loadPurifiers(config, storage, variants, first);
        LOG.info("advspark: round {} - {} validation variant(s): {}", config.roundId(), variants.size(),
                variants.stream().map(v -> v.target() + " [" + v.chain().spec() + "]").toList());
        return new ValidationModels(bundles, purifiers, variants);
    }

    /** Says which files a reduced-precision round runs, and warns where the CPU only emulates bf16. */
    private static void logPrecision(RoundConfig config, List<ModelBundle> bundles) {
        io.advspark.model.Precision p = config.precision();
        if (p == io.advspark.model.Precision.FP32) {
            return;
        }
        LOG.info("advspark: round {} - surrogates compute in {} (advspark.precision): {}; everything outside their"
                + " layers stays fp32", config.roundId(), p.label(), bundles.stream().map(ModelBundle::uri).toList());
        if (p == io.advspark.model.Precision.BF16 && config.device().equals("cpu")
                && Boolean.FALSE.equals(io.advspark.model.Precision.cpuHasBf16())) {
            LOG.warn("advspark: advspark.precision = bf16, but the driver's CPU has neither AVX-512 BF16 nor AMX: oneDNN"
                    + " emulates bf16 there, usually slower than fp32 (docs/precision.md); executors on other hardware"
                    + " may differ");
        }
    }

    /** The memory estimate of each attack configuration: logged, and refused above 100% ({@link MemoryCheck}). */
    private static void checkMemory(RoundConfig config, SparkSession spark, Prepared prepared) {
        if (prepared.measured() != null) {
            MemoryCheck.run(config, spark.sparkContext().master(), spark.sparkContext().getConf(), prepared.bundles(),
                    prepared.measured(), prepared.attacks(), prepared.imagePixels());
        }
    }

    /** Output store writable, models loadable and as their cards say, manifest read. */
    private static Prepared prepare(RoundConfig config, Storage storage) {
        if (config.surrogates().isEmpty()) {
            throw new ConfigException("advspark.models: an attack round needs at least one model with role = surrogate");
        }
        try {
            storage.checkWritable(config.roundUri());
        } catch (io.advspark.data.StoreWriteException e) {
            throw new UncheckedIOException(e); // a full or refusing store: reported as a write failure
        } catch (IOException e) {
            throw new ConfigException(e.getMessage() + " (advspark.round.output)", e);
        }
        List<Spec> augment = config.attacks().stream().flatMap(a -> a.config().augment().stream()).distinct().toList();
        ModelLoader.Check augments = Augments.supportedBySurrogates(augment);
        // The surrogates' memory per row, measured while each is loaded anyway (see ActivationMemory).
        ActivationMemory measured = config.memory().check() == MemorySettings.Check.OFF ? null : new ActivationMemory();
        List<ModelBundle> bundles = ModelLoader.load(config.surrogateSources(storage), storage, config.threads(),
                measured == null ? augments : (spec, model, manager) -> {
                    augments.check(spec, model, manager);
                    measured.check(spec, model, manager);
                });
        logPrecision(config, bundles);
        int classes = bundles.get(0).card().datasetClasses();
        for (var a : config.attacks()) {
            Augments.checkGroups(a.name(), a.config().toAttack(), bundles);
        }
        // Read once: parsed here and fingerprinted for the resume identity (Provenance).
        byte[] manifest = manifestBytes(config, storage);
        List<ManifestRow> rows = parseManifest(config, manifest, classes, config.dataset().limit());
        if (!rows.isEmpty() && rows.stream().noneMatch(ManifestRow::ok)) {
            // Nothing could be attacked: a configuration error now, not one WARN per row and an empty round.
            throw new ConfigException("manifest " + manifestUri(config) + ": none of its " + rows.size() + " rows is usable"
                    + firstProblems(rows) + (rows.stream().anyMatch(r -> r.error().contains("out of range"))
                    ? "; the surrogates (" + bundles.get(0).card().name() + ") have " + classes + " classes: check"
                    + " advspark.dataset.label-base (" + config.dataset().labelBase() + ") and that the models match"
                    + " the dataset" : ""));
        }
        Map<Integer, String> guides = null;
        Map<String, Attack> attacks = new LinkedHashMap<>();
        config.attacks().forEach(a -> attacks.put(a.name(), a.config().toAttack()));
        Attack attack = attacks.values().stream().filter(a -> a.init().needsGuides()).findFirst().orElse(null);
        if (attack != null) {
            // From the whole manifest, so that an image's start does not depend on dataset.limit.
            guides = guideIds(config.dataset().limit() > 0 ? parseManifest(config, manifest, classes, 0) : rows);
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
        long imagePixels = measured == null ? 0 : firstImagePixels(config, storage, rows);
        return new Prepared(bundles, rows, guides, attacks, Provenance.of(bundles, manifestUri(config), manifest), measured,
                imagePixels, loadValidation(config, storage, rows));
    }

    /**
     * Height x width of the first usable row's image (the input transforms work at the image's
     * size, which may exceed the surrogates' inputs: 299 x 299 NIPS images, 128 x 128 MobileNets),
     * for the memory estimate; 0 where it cannot be read (the row's error is reported by its task).
     */
    private static long firstImagePixels(RoundConfig config, Storage storage, List<ManifestRow> rows) {
        ManifestRow first = rows.stream().filter(ManifestRow::ok).findFirst().orElse(null);
        if (first == null) {
            return 0;
        }
        try {
            DatasetLayout.Image image = DatasetLayout.forName(config.dataset().layout()).read(storage, config.dataset().uri(),
                    first.imageId());
            io.advspark.data.RgbImage decoded = io.advspark.data.Png.decodeInput(image.bytes(), image.uri());
            return (long) decoded.height() * decoded.width();
        } catch (IOException | RuntimeException e) {
            return 0;
        }
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
        return DatasetLayout.forName(config.dataset().layout()).manifestUri(config.dataset().uri(),
                config.dataset().manifest());
    }

    static byte[] manifestBytes(RoundConfig config, Storage storage) {
        String uri = manifestUri(config);
        io.advspark.plan.DatasetConfig d = config.dataset();
        try {
            return DatasetLayout.forName(d.layout()).manifest(storage, d.uri(), d.manifest(), d.classes(), d.labelBase());
        } catch (Manifest.ManifestException e) {
            throw new ConfigException(e.getMessage(), e); // it names the folder or file
        } catch (FileNotFoundException e) {
            throw new ConfigException("manifest not found: " + uri + " (advspark.dataset.uri / manifest)", e);
        } catch (IOException e) {
            throw new ConfigException("cannot read manifest " + uri + ": " + e.getMessage(), e);
        }
    }

    static List<ManifestRow> parseManifest(RoundConfig config, byte[] bytes, int classes, int limit) {
        String uri = manifestUri(config);
        try (InputStream in = new java.io.ByteArrayInputStream(bytes)) {
            return Manifest.parse(in, uri, config.dataset().labelBase(), classes, limit,
                    DatasetLayout.forName(config.dataset().layout()).columns(config.dataset().columns()));
        } catch (Manifest.ManifestException e) {
            throw new ConfigException(e.getMessage(), e); // it names the file already
        } catch (IOException e) {
            throw new ConfigException("cannot read manifest " + uri + ": " + e.getMessage(), e);
        }
    }

    /** Figures of the round's current attack configurations, read back from the committed records. */
    static RoundSummary summarise(SparkSession spark, RoundConfig config, String recordsUri, double seconds, long resumed) {
        List<String> names = config.attacks().stream().map(NamedAttack::name).toList();
        LOG.info("advspark: round {}: summarising the records of {} attack config(s)", config.roundId(), names.size());
        List<RoundSummary.Line> direct = summaryLinesDirect(spark.sparkContext().hadoopConfiguration(), recordsUri, names);
        return RoundSummary.of(config.roundUri(), seconds, resumed,
                direct != null ? direct : summaryLinesSpark(spark, recordsUri, names));
    }

    /**
     * Each attack's record files (its {@code attack=<name>} folder), listed once; null when they
     * are more than {@value #DIRECT_SUMMARY_FILES} in all, too many for the driver to read itself.
     */
    static Map<String, List<String>> fewRecordFiles(Storage storage, String recordsUri, List<String> names)
            throws IOException {
        Map<String, List<String>> out = new LinkedHashMap<>();
        int left = DIRECT_SUMMARY_FILES;
        for (String n : names) {
            List<String> files = io.advspark.round.ParquetRows.dataFiles(storage, attackRecords(recordsUri, n), left);
            if (files == null) {
                return null;
            }
            left -= files.size();
            out.put(n, files);
        }
        return out;
    }

    /** One attack's folder of the records table. */
    static String attackRecords(String recordsUri, String attack) {
        return Storage.join(recordsUri, "attack=" + attack);
    }

    /** {@link #summaryLinesDirect}'s figures from a Spark query over the records (for rounds with many record files). */
    static List<RoundSummary.Line> summaryLinesSpark(SparkSession spark, String recordsUri, List<String> names) {
        Map<String, Row> byAttack = new java.util.HashMap<>();
        try {
            if (RoundState.hasDataFiles(Storage.of(spark.sparkContext().hadoopConfiguration()), recordsUri)) {
                // The explicit schema: files written before a column existed read it as null.
                List<Row> agg = spark.read().schema(SparkTables.struct(RecordTables.RECORDS)).parquet(recordsUri)
                        .withColumn("attack", org.apache.spark.sql.functions.col("attack").cast("string"))
                        .where(org.apache.spark.sql.functions.col("attack").isin(names.toArray()))
                        .groupBy("attack")
                        .agg(org.apache.spark.sql.functions.expr("count(*)"),
                                org.apache.spark.sql.functions.expr("sum(case when error is not null then 1 else 0 end)"),
                                org.apache.spark.sql.functions.expr(
                                        "avg(case when error is null then cast(untargeted_success as int) end)"),
                                org.apache.spark.sql.functions.expr(
                                        "avg(case when error is null then cast(targeted_success as int) end)"),
                                org.apache.spark.sql.functions.expr("avg(l2)"),
                                org.apache.spark.sql.functions.expr("max(linf)"),
                                org.apache.spark.sql.functions.expr(
                                        "sum(case when error is null and zero_gradient_steps > 0 then 1 else 0 end)"),
                                org.apache.spark.sql.functions.expr("sum(case when error is null and linf = 0 then 1 else 0 end)"),
                                org.apache.spark.sql.functions.expr("count(met)"),
                                org.apache.spark.sql.functions.expr("avg(cast(met as int))"),
                                org.apache.spark.sql.functions.expr("avg(case when error is null then eps end)"),
                                org.apache.spark.sql.functions.expr(
                                        "avg(case when error is null then coalesce(search_steps, steps) end)"))
                        .collectAsList();
                agg.forEach(row -> byAttack.put(row.getString(0), row));
            }
        } catch (IOException e) {
            throw new ConfigException("cannot read " + recordsUri + ": " + e.getMessage(), e);
        }
        List<RoundSummary.Line> lines = new ArrayList<>();
        for (String n : names) {
            Row a = byAttack.get(n);
            lines.add(a == null ? new RoundSummary.Line(n, 0, 0, 0, 0, 0, 0)
                    : new RoundSummary.Line(n, a.getLong(1), a.isNullAt(2) ? 0 : a.getLong(2), dbl(a, 3), dbl(a, 4),
                            dbl(a, 5), a.isNullAt(6) ? 0 : a.getInt(6), a.isNullAt(7) ? 0 : a.getLong(7),
                            a.isNullAt(8) ? 0 : a.getLong(8), a.getLong(9) == 0 ? null
                                    : new RoundSummary.ScoreAware(dbl(a, 10), dbl(a, 11), dbl(a, 12))));
        }
        return lines;
    }

    /** At most this many record files are read by the driver itself; more go through a Spark query. */
    static final int DIRECT_SUMMARY_FILES = 400;

    /**
     * The summary's lines computed by reading the current attacks' record files directly (no
     * Spark query to plan: 10 s or more of silence after the last image in a cold JVM), the same
     * figures as {@link #summarise}'s query; null when there are more than
     * {@value #DIRECT_SUMMARY_FILES} files, which a Spark job reads in parallel.
     */
    static List<RoundSummary.Line> summaryLinesDirect(org.apache.hadoop.conf.Configuration conf, String recordsUri,
            List<String> names) {
        Storage storage = Storage.of(conf);
        Map<String, List<Map<String, Object>>> byAttack = new LinkedHashMap<>();
        try {
            Map<String, List<String>> files = fewRecordFiles(storage, recordsUri, names);
            if (files == null) {
                return null;
            }
            for (String n : names) {
                byAttack.put(n, io.advspark.round.ParquetRows.read(conf, attackRecords(recordsUri, n), files.get(n)));
            }
        } catch (IOException e) {
            throw new ConfigException("cannot read " + recordsUri + ": " + e.getMessage(), e);
        }
        return summaryLines(byAttack, names);
    }

    /** The summary's lines from each attack's record rows, as read already. */
    static List<RoundSummary.Line> summaryLines(Map<String, List<Map<String, Object>>> byAttack, List<String> names) {
        List<RoundSummary.Line> lines = new ArrayList<>();
        for (String n : names) {
            long count = 0;
            long failed = 0;
            long ok = 0;
            long untargeted = 0;
            long targeted = 0;
            long zeroGradient = 0;
            long unchanged = 0;
            long metCount = 0;
            long met = 0;
            double l2 = 0;
            long l2n = 0;
            int maxLinf = Integer.MIN_VALUE;
            double eps = 0;
            long epsN = 0;
            double steps = 0;
            long stepsN = 0;
            for (Map<String, Object> r : byAttack.get(n)) {
                count++;
                boolean error = r.get("error") != null;
                if (error) {
                    failed++;
                } else {
                    ok++;
                    untargeted += Boolean.TRUE.equals(r.get("untargeted_success")) ? 1 : 0;
                    targeted += Boolean.TRUE.equals(r.get("targeted_success")) ? 1 : 0;
                    zeroGradient += r.get("zero_gradient_steps") instanceof Number z && z.longValue() > 0 ? 1 : 0;
                    unchanged += r.get("linf") instanceof Number li && li.longValue() == 0 ? 1 : 0;
                    if (r.get("eps") instanceof Number e) {
                        eps += e.doubleValue();
                        epsN++;
                    }
                    Object st = r.get("search_steps") != null ? r.get("search_steps") : r.get("steps");
                    if (st instanceof Number x) {
                        steps += x.doubleValue();
                        stepsN++;
                    }
                }
                if (r.get("l2") instanceof Number x) {
                    l2 += x.doubleValue();
                    l2n++;
                }
                if (r.get("linf") instanceof Number x) {
                    maxLinf = Math.max(maxLinf, x.intValue());
                }
                if (r.get("met") instanceof Boolean m) {
                    metCount++;
                    met += m ? 1 : 0;
                }
            }
            lines.add(count == 0 ? new RoundSummary.Line(n, 0, 0, 0, 0, 0, 0)
                    : new RoundSummary.Line(n, count, failed, ok == 0 ? 0 : (double) untargeted / ok,
                            ok == 0 ? 0 : (double) targeted / ok, l2n == 0 ? 0 : l2 / l2n,
                            maxLinf == Integer.MIN_VALUE ? 0 : maxLinf, zeroGradient, unchanged,
                            metCount == 0 ? null : new RoundSummary.ScoreAware((double) met / metCount,
                                    epsN == 0 ? 0 : eps / epsN, stepsN == 0 ? 0 : steps / stepsN)));
        }
        return lines;
    }

    private static double dbl(Row r, int i) {
        return r.isNullAt(i) ? 0 : r.getDouble(i);
    }

    /** Starts the engine on the driver early so its one-off native extraction is not billed to tasks. */
    static void warmUp(RoundConfig config) {
        TorchRuntime.start(config.threads());
    }
}
