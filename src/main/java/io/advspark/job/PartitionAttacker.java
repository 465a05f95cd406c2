package io.advspark.job;

import io.advspark.round.AttackRecord;
import io.advspark.round.RecordTables;
import io.advspark.round.Provenance;
import io.advspark.util.Fingerprint;
import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.advspark.attack.Attack;
import io.advspark.attack.AttackEngine;
import io.advspark.attack.Draws;
import io.advspark.attack.Quantizer;
import io.advspark.config.NamedAttack;
import io.advspark.config.RoundConfig;
import io.advspark.data.ManifestRow;
import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.data.Storage;
import io.advspark.model.BilinearResize;
import io.advspark.model.Ensemble;
import io.advspark.model.ModelBundle;
import io.advspark.model.ModelCache;
import io.advspark.model.TorchRuntime;
import io.advspark.model.TorchThreads;
import io.advspark.score.Perturbation;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.SparkEnv;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.util.LongAccumulator;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executor side of an attack round: attacks one partition of the work list in batches, every
 * image read once and attacked by each of the round's attack configurations it still needs, and
 * commits each (attack, batch) as it finishes: PNGs, then its record file (see {@link RoundState}).
 * The ensemble comes from the per-JVM {@link ModelCache}; an image that cannot be read becomes an
 * error row and the others go on.
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
    /** This task's device, as the records name it (set when the task starts). */
    private transient String deviceName = "cpu";

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

    /** An attack configuration ready to run: its name, parts and engine. */
    private record Runner(String name, Attack attack, AttackEngine engine) {}

    /** Measures the task time into {@code m} (see {@link RunMetrics}). */
    public PartitionAttacker withMetrics(RunMetrics m) {
        this.metrics = m;
        return this;
    }

    private void time(java.util.function.Function<RunMetrics, LongAccumulator> which, long startNanos) {
        if (metrics != null) {
            which.apply(metrics).add(System.nanoTime() - startNanos);
        }
    }

    @Override
    public void call(Iterator<WorkItem> items) throws Exception {
        // Every write of the task is checked to stay inside the round.
        Storage storage = new Storage(hadoopConf.value().value()).fencedTo(config.roundUri());
        long tm = System.nanoTime();
        Device device = TaskDevice.forTask(config.device(), config.threads());
        deviceName = TaskDevice.name(device);
        // The lease keeps the ensemble open while this task computes with it (see ModelCache).
        try (ModelCache.Lease lease = ModelCache.acquire(cacheKey, models::value, config.threads(), device)) {
            time(x -> x.modelNanos, tm);
            attackPartition(items, storage, lease.ensemble(), device);
        }
    }

    private void attackPartition(Iterator<WorkItem> items, Storage storage, Ensemble ensemble, Device device) throws Exception {
        if (provenance == null) {
            throw new IllegalStateException("record rows need the round's provenance: use withProvenance");
        }
        Map<String, Runner> runners = new LinkedHashMap<>();
        boolean needGuides = false;
        for (NamedAttack na : config.attacks()) {
            Attack attack = Attack.fromConfig(na.config());
            runners.put(na.name(), new Runner(na.name(), attack, new AttackEngine(attack, ensemble)));
            needGuides |= attack.init().needsGuides();
        }
        String executor = SparkEnv.get() == null ? "driver" : SparkEnv.get().executorId();
        if (needGuides && guideIds == null) {
            throw new IllegalStateException("an attack's init needs guide images: use withGuides");
        }
        Guides guides = needGuides ? new Guides() : null;
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
                    long tr = System.nanoTime();
                    l = read(storage, r);
                    time(x -> x.readNanos, tr);
                    error = l.error;
                    if (error != null) {
                        LOG.warn("advspark: skipping {}: {}", r.imageId(), error);
                    }
                }
                if (error != null) {
                    for (String a : item.attacks()) {
                        failed.computeIfAbsent(a, k -> new ArrayList<>()).add(errorRow(runners.get(a).attack(), r, error, executor));
                        failedKeys.computeIfAbsent(a, k -> new ArrayList<>()).add(r.imageId() + "@" + r.rowNumber());
                    }
                    imagesFailed.add(item.attacks().size());
                    continue;
                }
                pending.add(new Loaded(r, l.image, null, item.attacks()));
                if (pending.size() >= config.batchSize()) {
                    runBatch(runners, ensemble, storage, guides, pending, manager, executor);
                    pending.clear();
                }
            }
            if (!pending.isEmpty()) {
                runBatch(runners, ensemble, storage, guides, pending, manager, executor);
            }
        }
        // Error rows last: a rerun retries these images, so they never hide a committed batch.
        for (Map.Entry<String, List<Row>> e : failed.entrySet()) {
            ParquetFiles.write(storage, RoundState.failedFile(config.roundUri(), e.getKey(), failedKeys.get(e.getKey())),
                    SparkTables.struct(RecordTables.RECORDS), e.getValue());
        }
    }

    private record Loaded(ManifestRow row, RgbImage image, String error, List<String> attacks) {
        Loaded(ManifestRow row, RgbImage image, String error) {
            this(row, image, error, List.of());
        }
    }

    private record Attacked(int[] cleanPred, float[] adv) {}

    private Loaded read(Storage storage, ManifestRow r) {
        String imagesDir = Storage.join(config.dataset().uri(), "images");
        String uri = Storage.join(imagesDir, r.imageId());
        try {
            byte[] bytes;
            try {
                bytes = storage.readAll(uri);
            } catch (FileNotFoundException e) {
                // The Tianchi layout also appears flat (PNGs next to dev.csv).
                String flat = Storage.join(config.dataset().uri(), r.imageId());
                if (!storage.isFile(flat)) {
                    return new Loaded(r, null, "image file not found: " + uri
                            + (r.rowNumber() > 0 ? " (manifest line " + r.rowNumber() + ")" : ""));
                }
                uri = flat;
                bytes = storage.readAll(flat);
            }
            return new Loaded(r, Png.decode(bytes, uri), null);
        } catch (IOException | RuntimeException e) {
            return new Loaded(r, null, String.valueOf(e.getMessage()));
        }
    }

    /**
     * Attacks loaded images with every attack they still need, grouped by size (a batch tensor
     * needs one shape), committing each (attack, group).
     */
    private void runBatch(
            Map<String, Runner> runners,
            Ensemble ensemble,
            Storage storage,
            Guides guides,
            List<Loaded> batch,
            NDManager manager,
            String executor)
            throws IOException, InterruptedException {
        for (Runner runner : runners.values()) {
            Map<String, List<Loaded>> bySize = new LinkedHashMap<>();
            for (Loaded l : batch) {
                if (l.attacks.contains(runner.name())) {
                    bySize.computeIfAbsent(l.image.height() + "x" + l.image.width(), k -> new ArrayList<>()).add(l);
                }
            }
            for (List<Loaded> group : bySize.values()) {
                long t0 = System.nanoTime();
                List<Row> rows = runGroup(runner, ensemble, storage, guides, group, manager, executor);
                // The commit of this (attack, group): after its PNGs, one atomic file.
                long tw = System.nanoTime();
                ParquetFiles.write(storage, RoundState.batchFile(config.roundUri(), runner.name(),
                        group.stream().map(l -> l.row.imageId()).toList()), SparkTables.struct(RecordTables.RECORDS), rows);
                time(x -> x.writeNanos, tw);
                imagesDone.add(group.size());
                if (metrics != null) {
                    metrics.batch(executor, group.size(), System.nanoTime() - t0);
                }
            }
        }
    }

    private List<Row> runGroup(
            Runner runner,
            Ensemble ensemble,
            Storage storage,
            Guides guides,
            List<Loaded> group,
            NDManager manager,
            String executor)
            throws IOException, InterruptedException {
        Attack attack = runner.attack();
        AttackEngine engine = runner.engine();
        long t0 = System.nanoTime();
        int n = group.size();
        int h = group.get(0).image.height();
        int w = group.get(0).image.width();
        int per = 3 * h * w;
        long[] shape = {n, 3, h, w};
        float[] clean = new float[n * per];
        int base = config.dataset().labelBase();
        int[] y = new int[n];
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            group.get(i).image.toUnitFloats(clean, i * per);
            y[i] = group.get(i).row.trueLabel() - base;
            t[i] = group.get(i).row.targetLabel() - base;
        }
        // One random stream per (round, attack, image): same image, same draws, in any batch.
        long[] seeds = new long[n];
        for (int i = 0; i < n; i++) {
            seeds[i] = Draws.seedFor(config.roundId(), attack.spec(), group.get(i).row.imageId());
        }
        Draws draws = new Draws(seeds);
        float[] guide = guides == null ? null : guides.batch(storage, group, clean, h, w, manager);
        // Tensor work on a long-lived torch thread, not on Spark's task thread (see TorchThreads).
        long ta = System.nanoTime();
        Attacked a = TorchThreads.call(() -> new Attacked(
                ensemble.predict(clean, shape, manager), engine.run(clean, shape, y, t, guide, draws, manager, null)));
        int[] cleanPred = a.cleanPred();
        float[] adv = a.adv();

        // Score what is written: the 8-bit images, not the float iterate.
        List<RgbImage> written = new ArrayList<>(n);
        float[] advPixels = new float[n * per];
        for (int i = 0; i < n; i++) {
            RgbImage q = Quantizer.toPixels(adv, i * per, group.get(i).image, attack.epsPixels());
            q.toUnitFloats(advPixels, i * per);
            written.add(q);
        }
        int[] advPred = TorchThreads.call(() -> ensemble.predict(advPixels, shape, manager));
        time(x -> x.attackNanos, ta);
        long te = System.nanoTime();
        List<byte[]> pngs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            pngs.add(Png.encode(written.get(i)));
        }
        time(x -> x.encodeNanos, te);
        long tw = System.nanoTime();
        String imagesDir = RoundState.imagesDir(config.roundUri(), runner.name());
        for (int i = 0; i < n; i++) {
            storage.writeAtomically(Storage.join(imagesDir, group.get(i).row.imageId()), pngs.get(i));
        }
        time(x -> x.writeNanos, tw);
        long wallMs = (System.nanoTime() - t0) / 1_000_000;
        List<Row> rows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ManifestRow r = group.get(i).row;
            Perturbation p = Perturbation.between(group.get(i).image, written.get(i));
            rows.add(SparkTables.row(RecordTables.RECORDS, AttackRecord.builder()
                    .roundId(config.roundId())
                    .attackSpec(attack.spec())
                    .imageId(r.imageId())
                    .manifestRow(r.rowNumber())
                    .trueLabel(r.trueLabel())
                    .targetLabel(r.targetLabel())
                    .cleanPred(cleanPred[i] + base)
                    .advPred(advPred[i] + base)
                    .cleanCorrect(cleanPred[i] == y[i])
                    .untargetedSuccess(advPred[i] != y[i])
                    .targetedSuccess(advPred[i] == t[i])
                    .linf(p.linf())
                    .l2(p.l2())
                    .steps(attack.steps())
                    .batchSize(n)
                    .wallMs(wallMs / n)
                    .executorId(executor)
                    .device(deviceName)
                    .outputFile(RoundState.relativePng(runner.name(), r.imageId()))
                    .pngBytes((long) pngs.get(i).length)
                    .pngCrc32c(Fingerprint.crc32c(pngs.get(i)))
                    .provenance(provenance)
                    .build().values()));
        }
        LOG.info("advspark: {}: batch of {} images ({}x{}) attacked in {} ms on executor {}", runner.name(), n, h, w, wallMs,
                executor);
        return rows;
    }

    /**
     * The guide images of one partition: read from storage on first use (a few recent ones are
     * kept, as many images share a target class), resized to the image's size if needed. An
     * image whose target class has no usable guide is its own guide (the zeros start), with one
     * warning per class and partition.
     */
    private final class Guides {
        private static final int KEEP = 32;
        private final Map<String, RgbImage> recent = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, RgbImage> e) {
                return size() > KEEP;
            }
        };
        private final Set<String> unusable = new HashSet<>();
        private final Set<Integer> warned = new HashSet<>();

        float[] batch(Storage storage, List<Loaded> group, float[] clean, int h, int w, NDManager manager)
                throws InterruptedException {
            int per = 3 * h * w;
            float[] out = new float[clean.length];
            for (int i = 0; i < group.size(); i++) {
                ManifestRow r = group.get(i).row;
                RgbImage g = image(storage, r.targetLabel());
                if (g == null) {
                    System.arraycopy(clean, i * per, out, i * per, per);
                } else if (g.height() == h && g.width() == w) {
                    g.toUnitFloats(out, i * per);
                } else {
                    float[] resized = TorchThreads.call(() -> resize(g, h, w, manager));
                    System.arraycopy(resized, 0, out, i * per, per);
                }
            }
            return out;
        }

        private RgbImage image(Storage storage, int label) {
            String id = guideIds.get(label);
            if (id == null) {
                warn(label, "the manifest has no usable image of class " + label);
                return null;
            }
            RgbImage g = recent.get(id);
            if (g != null || unusable.contains(id)) {
                return g;
            }
            Loaded l = read(storage, new ManifestRow(0, id, label, -1, null));
            if (l.error != null) {
                unusable.add(id);
                warn(label, "its guide image " + id + " cannot be read: " + l.error);
                return null;
            }
            recent.put(id, l.image);
            return l.image;
        }

        private void warn(int label, String why) {
            if (warned.add(label)) {
                LOG.warn("advspark: init target: {}; images with target class {} start from the clean image (zeros start)",
                        why, label);
            }
        }

        private float[] resize(RgbImage g, int h, int w, NDManager manager) {
            float[] px = new float[3 * g.height() * g.width()];
            g.toUnitFloats(px, 0);
            try (NDManager m = manager.newSubManager();
                    BilinearResize rs = new BilinearResize(m, g.height(), g.width(), h, w)) {
                return rs.apply(m.create(px, new ai.djl.ndarray.types.Shape(1, 3, g.height(), g.width())))
                        .clip(0f, 1f).toFloatArray();
            }
        }
    }

    private Row errorRow(Attack attack, ManifestRow r, String error, String executor) {
        return SparkTables.row(RecordTables.RECORDS, AttackRecord.builder()
                .roundId(config.roundId())
                .attackSpec(attack.spec())
                .imageId(r.imageId())
                .manifestRow(r.rowNumber())
                .trueLabel(r.trueLabel() < 0 ? null : r.trueLabel())
                .targetLabel(r.targetLabel() < 0 ? null : r.targetLabel())
                .executorId(executor)
                .device(deviceName)
                .error(error)
                .provenance(provenance)
                .build().values());
    }
}
