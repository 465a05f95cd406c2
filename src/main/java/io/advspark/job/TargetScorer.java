package io.advspark.job;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.advspark.attack.Draws;
import io.advspark.data.DatasetLayout;
import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.data.Storage;
import io.advspark.defense.DefenseChain;
import io.advspark.model.Classifier;
import io.advspark.model.Ensemble;
import io.advspark.model.ModelBundle;
import io.advspark.model.ModelCache;
import io.advspark.model.TorchRuntime;
import io.advspark.model.TorchThreads;
import io.advspark.plan.DatasetConfig;
import io.advspark.score.Perturbation;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executor side of {@code advspark evaluate}: predicts the top-5 of every (defended) target on
 * one partition of 8-bit images read from storage, in batches. The targets come from the
 * per-JVM {@link ModelCache}. Defenses run on the decoded 8-bit image; a randomised defense draws
 * from a stream seeded by (round, defense chain, ImageId), so an image's clean and adversarial
 * versions see the same draw, in any partition or batch.
 */
final class TargetScorer implements FlatMapFunction<Iterator<TargetScorer.Item>, Row> {
    private static final Logger LOG = LoggerFactory.getLogger(TargetScorer.class);

    /**
     * One image to score.
     *
     * @param attack null for a clean image (dataset), else the name of the attack config whose PNG this is
     * @param imageId the manifest's ImageId
     * @param advUri the written PNG (null for a clean image)
     */
    record Item(String attack, String imageId, String advUri) implements Serializable {}

    /** A defended target: member {@code member} of the cached target ensemble behind {@code chain}. */
    record Variant(int member, String target, DefenseChain chain) implements Serializable {}

    private final String cacheKey;
    private final String roundId;
    private final DatasetConfig dataset;
    private final List<Variant> variants;
    private final int batchSize;
    private final int threads;
    private final String device;
    private final Broadcast<List<ModelBundle>> models;
    private final Broadcast<SerializableConfiguration> hadoopConf;

    TargetScorer(String cacheKey, String roundId, DatasetConfig dataset, List<Variant> variants, int batchSize, int threads,
            String device, Broadcast<List<ModelBundle>> models, Broadcast<SerializableConfiguration> hadoopConf) {
        this.cacheKey = cacheKey;
        this.roundId = roundId;
        this.dataset = dataset;
        this.variants = List.copyOf(variants);
        this.batchSize = batchSize;
        this.threads = threads;
        this.device = device;
        this.models = models;
        this.hadoopConf = hadoopConf;
    }

    private record Loaded(Item item, RgbImage image, RgbImage clean, String error) {}

    @Override
    public Iterator<Row> call(Iterator<Item> items) throws Exception {
        Storage storage = Storage.of(hadoopConf.value().value());
        Device d = TaskDevice.forTask(device, threads);
        List<Row> out = new ArrayList<>();
        List<Loaded> pending = new ArrayList<>();
        try (ModelCache.Lease lease = ModelCache.acquire(cacheKey, models::value, threads, d);
                NDManager manager = TorchRuntime.newManager(d)) {
            Ensemble targets = lease.ensemble();
            while (items.hasNext()) {
                Loaded l = load(storage, items.next());
                if (l.error != null) {
                    LOG.warn("advspark evaluate: {}", l.error);
                    for (Variant v : variants) {
                        out.add(row(l.item, v, null, null, null, l.error));
                    }
                    continue;
                }
                pending.add(l);
                if (pending.size() >= batchSize) {
                    out.addAll(score(targets, pending, manager));
                    pending.clear();
                }
            }
            if (!pending.isEmpty()) {
                out.addAll(score(targets, pending, manager));
            }
        }
        return out.iterator();
    }

    private Loaded load(Storage storage, Item item) {
        try {
            RgbImage clean = readClean(storage, dataset, item.imageId());
            if (item.advUri() == null) {
                return new Loaded(item, clean, null, null);
            }
            RgbImage adv = Png.decode(storage.readAll(item.advUri()), item.advUri());
            if (adv.height() != clean.height() || adv.width() != clean.width()) {
                return new Loaded(item, null, null, item.advUri() + " is " + adv.height() + "x" + adv.width()
                        + " but the clean image is " + clean.height() + "x" + clean.width());
            }
            return new Loaded(item, adv, clean, null);
        } catch (IOException | RuntimeException e) {
            return new Loaded(item, null, null, String.valueOf(e.getMessage()));
        }
    }

    /** The clean image of a manifest row, where the dataset's layout keeps it ({@link DatasetLayout}). */
    static RgbImage readClean(Storage storage, DatasetConfig dataset, String imageId) throws IOException {
        DatasetLayout.Image image;
        try {
            image = DatasetLayout.forName(dataset.layout()).read(storage, dataset.uri(), imageId);
        } catch (DatasetLayout.NotFound e) {
            throw new FileNotFoundException("clean image not found: " + e.uri());
        }
        return Png.decode(image.bytes(), image.uri());
    }

    private List<Row> score(Ensemble targets, List<Loaded> batch, NDManager manager) throws InterruptedException {
        long t0 = System.nanoTime();
        List<Row> rows = new ArrayList<>();
        Perturbation[] pert = new Perturbation[batch.size()];
        Double[] psnr = new Double[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            Loaded l = batch.get(i);
            if (l.clean != null) {
                pert[i] = Perturbation.between(l.clean, l.image);
                double p = Perturbation.psnr(l.clean, l.image);
                psnr[i] = Double.isInfinite(p) ? null : p;
            }
        }
        for (Variant v : variants) {
            Classifier model = targets.members().get(v.member());
            // Defended images, grouped by size (rp changes it; one tensor needs one shape).
            Map<String, List<Integer>> bySize = new LinkedHashMap<>();
            RgbImage[] defended = new RgbImage[batch.size()];
            for (int i = 0; i < batch.size(); i++) {
                Random rnd = new Random(Draws.seedFor(roundId, v.chain().spec(), batch.get(i).item.imageId()));
                defended[i] = v.chain().apply(batch.get(i).image, rnd);
                bySize.computeIfAbsent(defended[i].height() + "x" + defended[i].width(), k -> new ArrayList<>()).add(i);
            }
            int[][] top5 = new int[batch.size()][];
            for (List<Integer> group : bySize.values()) {
                int h = defended[group.get(0)].height();
                int w = defended[group.get(0)].width();
                int per = 3 * h * w;
                float[] px = new float[group.size() * per];
                for (int j = 0; j < group.size(); j++) {
                    defended[group.get(j)].toUnitFloats(px, j * per);
                }
                int k = Math.min(5, model.card().datasetClasses());
                int[][] got = TorchThreads.call(() -> model.topK(px, new long[] {group.size(), 3, h, w}, k, manager));
                for (int j = 0; j < group.size(); j++) {
                    top5[group.get(j)] = got[j];
                }
            }
            for (int i = 0; i < batch.size(); i++) {
                rows.add(row(batch.get(i).item, v, top5[i], pert[i], psnr[i], null));
            }
        }
        LOG.info("advspark evaluate: batch of {} images x {} defended targets in {} ms", batch.size(), variants.size(),
                (System.nanoTime() - t0) / 1_000_000);
        return rows;
    }

    private Row row(Item item, Variant v, int[] top5, Perturbation p, Double psnr, String error) {
        int base = dataset.labelBase();
        Integer top1 = null;
        Integer[] five = null;
        if (top5 != null) {
            top1 = top5[0] + base;
            five = new Integer[top5.length];
            for (int j = 0; j < top5.length; j++) {
                five[j] = top5[j] + base;
            }
        }
        return RowFactory.create(item.attack(), item.imageId(), v.target(), v.chain().spec(), top1,
                five,
                p == null ? null : p.linf(), p == null ? null : p.l2(), psnr, error);
    }
}
