package io.advspark.job;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.advspark.attack.Attack;
import io.advspark.attack.AttackEngine;
import io.advspark.attack.Draws;
import io.advspark.attack.Quantizer;
import io.advspark.config.RoundConfig;
import io.advspark.data.ManifestRow;
import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.data.Storage;
import io.advspark.model.Ensemble;
import io.advspark.model.ModelBundle;
import io.advspark.model.ModelCache;
import io.advspark.model.TorchThreads;
import io.advspark.score.Perturbation;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkEnv;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.LongAccumulator;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executor side of an attack round: attacks one partition of the manifest in batches and
 * returns its record rows. The ensemble comes from the per-JVM {@link ModelCache}; an image that
 * cannot be read becomes an error row and the others go on.
 */
public final class PartitionAttacker
        implements org.apache.spark.api.java.function.FlatMapFunction<Iterator<ManifestRow>, Row> {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionAttacker.class);

    private final RoundConfig config;
    private final Broadcast<List<ModelBundle>> models;
    private final Broadcast<SerializableConfiguration> hadoopConf;
    private final LongAccumulator imagesDone;
    private final LongAccumulator imagesFailed;
    private final String cacheKey;

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

    @Override
    public Iterator<Row> call(Iterator<ManifestRow> rows) throws Exception {
        Storage storage = new Storage(hadoopConf.value().value());
        Ensemble ensemble =
                ModelCache.get(cacheKey, models::value, config.threads());
        Attack attack = Attack.fromConfig(config.attack());
        AttackEngine engine = new AttackEngine(attack, ensemble);
        String executor = SparkEnv.get() == null ? "driver" : SparkEnv.get().executorId();
        List<Row> out = new ArrayList<>();
        List<Loaded> pending = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            while (rows.hasNext()) {
                ManifestRow r = rows.next();
                if (!r.ok()) {
                    out.add(errorRow(attack, r, r.error(), executor));
                    imagesFailed.add(1);
                    continue;
                }
                Loaded l = read(storage, r);
                if (l.error != null) {
                    LOG.warn("advspark: skipping {}: {}", r.imageId(), l.error);
                    out.add(errorRow(attack, r, l.error, executor));
                    imagesFailed.add(1);
                    continue;
                }
                pending.add(l);
                if (pending.size() >= config.batchSize()) {
                    out.addAll(runBatch(engine, attack, ensemble, storage, pending, manager, executor));
                    pending.clear();
                }
            }
            if (!pending.isEmpty()) {
                out.addAll(runBatch(engine, attack, ensemble, storage, pending, manager, executor));
            }
        }
        return out.iterator();
    }

    private record Loaded(ManifestRow row, RgbImage image, String error) {}

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
                    return new Loaded(r, null, "image file not found: " + uri + " (manifest line " + r.rowNumber() + ")");
                }
                uri = flat;
                bytes = storage.readAll(flat);
            }
            return new Loaded(r, Png.decode(bytes, uri), null);
        } catch (IOException | RuntimeException e) {
            return new Loaded(r, null, String.valueOf(e.getMessage()));
        }
    }

    /** Attacks loaded images, grouped by size (a batch tensor needs one shape). */
    private List<Row> runBatch(
            AttackEngine engine,
            Attack attack,
            Ensemble ensemble,
            Storage storage,
            List<Loaded> batch,
            NDManager manager,
            String executor)
            throws IOException, InterruptedException {
        Map<String, List<Loaded>> bySize = new LinkedHashMap<>();
        for (Loaded l : batch) {
            bySize.computeIfAbsent(l.image.height() + "x" + l.image.width(), k -> new ArrayList<>()).add(l);
        }
        List<Row> rows = new ArrayList<>();
        for (List<Loaded> group : bySize.values()) {
            rows.addAll(runGroup(engine, attack, ensemble, storage, group, manager, executor));
        }
        return rows;
    }

    private List<Row> runGroup(
            AttackEngine engine,
            Attack attack,
            Ensemble ensemble,
            Storage storage,
            List<Loaded> group,
            NDManager manager,
            String executor)
            throws IOException, InterruptedException {
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
        // Tensor work on a long-lived torch thread, not on Spark's task thread (see TorchThreads).
        Attacked a = TorchThreads.call(() -> new Attacked(
                ensemble.predict(clean, shape, manager), engine.run(clean, shape, y, t, draws, manager, null)));
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
        String imagesDir = Storage.join(config.roundUri(), "images");
        for (int i = 0; i < n; i++) {
            String uri = Storage.join(imagesDir, group.get(i).row.imageId());
            storage.writeAtomically(uri, Png.encode(written.get(i)));
        }
        long wallMs = (System.nanoTime() - t0) / 1_000_000;
        List<Row> rows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ManifestRow r = group.get(i).row;
            Perturbation p = Perturbation.between(group.get(i).image, written.get(i));
            rows.add(RowFactory.create(
                    config.roundId(),
                    attack.spec(),
                    r.imageId(),
                    r.rowNumber(),
                    r.trueLabel(),
                    r.targetLabel(),
                    cleanPred[i] + base,
                    advPred[i] + base,
                    cleanPred[i] == y[i],
                    advPred[i] != y[i],
                    advPred[i] == t[i],
                    p.linf(),
                    p.l2(),
                    attack.steps(),
                    n,
                    wallMs / n,
                    executor,
                    config.device(),
                    "images/" + r.imageId(),
                    null));
        }
        imagesDone.add(n);
        LOG.info("advspark: batch of {} images ({}x{}) attacked in {} ms on executor {}", n, h, w, wallMs, executor);
        return rows;
    }

    private Row errorRow(Attack attack, ManifestRow r, String error, String executor) {
        return RowFactory.create(
                config.roundId(),
                attack.spec(),
                r.imageId(),
                r.rowNumber(),
                r.trueLabel() < 0 ? null : r.trueLabel(),
                r.targetLabel() < 0 ? null : r.targetLabel(),
                null, null, null, null, null, null, null, null, null, null,
                executor,
                config.device(),
                null,
                error);
    }
}
