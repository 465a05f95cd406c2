package io.advspark.round;

import ai.djl.ndarray.NDManager;
import io.advspark.attack.Draws;
import io.advspark.data.DatasetLayout;
import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.data.Storage;
import io.advspark.defense.DefenseChain;
import io.advspark.model.Classifier;
import io.advspark.model.Ensemble;
import io.advspark.model.TorchThreads;
import io.advspark.plan.DatasetConfig;
import io.advspark.score.Perturbation;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code evaluate} does to a batch of images, without Spark: read the written PNG and its
 * clean image, apply each defended target's defenses to the 8-bit image and take the target's
 * top-5, and make the {@link PassRow}s (the {@link EvalTables#PASS} rows). A randomised defense
 * draws from a stream seeded by (round, defense chain, ImageId), so an image's clean and
 * adversarial versions see the same draw, in any partition or batch. The Spark adapter
 * ({@code job.TargetScorer}) feeds it partitions.
 */
public final class BatchScorer {
    private static final Logger LOG = LoggerFactory.getLogger(BatchScorer.class);

    /**
     * One image to score.
     *
     * @param attack null for a clean image (dataset), else the name of the attack config whose PNG this is
     * @param imageId the manifest's ImageId
     * @param advUri the written PNG (null for a clean image)
     */
    public record Item(String attack, String imageId, String advUri) implements Serializable {}

    /** A defended target: member {@code member} of the target ensemble behind {@code chain}. */
    public record Variant(int member, String target, DefenseChain chain) implements Serializable {}

    /** An image read for scoring (with its clean image when adversarial), or why it could not be. */
    public record Loaded(Item item, RgbImage image, RgbImage clean, String error) {}

    /**
     * One row of a scoring pass, in {@link EvalTables#PASS} column order: labels in the dataset's
     * convention, norms of the written perturbation (null for a clean image), error or null.
     */
    public record PassRow(String attack, String imageId, String target, String defense, Integer top1, Integer[] top5,
            Integer linf, Double l2, Double psnr, String error) {
        public Object[] values() {
            return EvalTables.PASS.check(new Object[] {attack, imageId, target, defense, top1, top5, linf, l2, psnr, error});
        }
    }

    private final String roundId;
    private final DatasetConfig dataset;
    private final List<Variant> variants;
    private final Storage storage;
    private final Ensemble targets;

    public BatchScorer(String roundId, DatasetConfig dataset, List<Variant> variants, Storage storage, Ensemble targets) {
        this.roundId = roundId;
        this.dataset = dataset;
        this.variants = List.copyOf(variants);
        this.storage = storage;
        this.targets = targets;
    }

    /** Reads an item's images; a failure is described, not thrown. */
    public Loaded load(Item item) {
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
    public static RgbImage readClean(Storage storage, DatasetConfig dataset, String imageId) throws IOException {
        DatasetLayout.Image image;
        try {
            image = DatasetLayout.forName(dataset.layout()).read(storage, dataset.uri(), imageId);
        } catch (DatasetLayout.NotFound e) {
            throw new FileNotFoundException("clean image not found: " + e.uri());
        }
        return Png.decode(image.bytes(), image.uri());
    }

    /** The rows of an image that could not be read: one per defended target, with the error. */
    public List<PassRow> failed(Loaded l) {
        List<PassRow> rows = new ArrayList<>();
        for (Variant v : variants) {
            rows.add(row(l.item(), v, null, null, null, l.error()));
        }
        return rows;
    }

    /** Scores a batch of loaded images on every defended target. */
    public List<PassRow> score(List<Loaded> batch, NDManager manager) throws InterruptedException {
        long t0 = System.nanoTime();
        List<PassRow> rows = new ArrayList<>();
        Perturbation[] pert = new Perturbation[batch.size()];
        Double[] psnr = new Double[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            Loaded l = batch.get(i);
            if (l.clean() != null) {
                pert[i] = Perturbation.between(l.clean(), l.image());
                double p = Perturbation.psnr(l.clean(), l.image());
                psnr[i] = Double.isInfinite(p) ? null : p;
            }
        }
        for (Variant v : variants) {
            Classifier model = targets.members().get(v.member());
            // Defended images, grouped by size (rp changes it; one tensor needs one shape).
            Map<String, List<Integer>> bySize = new LinkedHashMap<>();
            RgbImage[] defended = new RgbImage[batch.size()];
            for (int i = 0; i < batch.size(); i++) {
                Random rnd = new Random(Draws.seedFor(roundId, v.chain().spec(), batch.get(i).item().imageId()));
                defended[i] = v.chain().apply(batch.get(i).image(), rnd);
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
                rows.add(row(batch.get(i).item(), v, top5[i], pert[i], psnr[i], null));
            }
        }
        LOG.info("advspark evaluate: batch of {} images x {} defended targets in {} ms", batch.size(), variants.size(),
                (System.nanoTime() - t0) / 1_000_000);
        return rows;
    }

    private PassRow row(Item item, Variant v, int[] top5, Perturbation p, Double psnr, String error) {
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
        return new PassRow(item.attack(), item.imageId(), v.target(), v.chain().spec(), top1, five,
                p == null ? null : p.linf(), p == null ? null : p.l2(), psnr, error);
    }
}
