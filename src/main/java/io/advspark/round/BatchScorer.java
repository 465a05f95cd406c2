package io.advspark.round;

import ai.djl.ndarray.NDManager;
import io.advspark.attack.Draws;
import io.advspark.data.DatasetLayout;
import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.data.Storage;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.advspark.defense.DefenseChain;
import io.advspark.defense.Purify;
import io.advspark.defense.RandomizedSmoothing;
import io.advspark.defense.TensorDefense;
import io.advspark.model.Autograd;
import io.advspark.model.Classifier;
import io.advspark.model.Ensemble;
import io.advspark.model.Purifier;
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
 *
 * <p>A chain's tensor stages run here, on the float image after its image stages: a purifier
 * ({@code purify}) maps the batch to a batch of the same shape; randomized smoothing ({@code rs})
 * repeats each image n times with Gaussian noise drawn in Java from the image's stream (after the
 * image stages' draws), sends the copies through the stages after it and the model in forwards of
 * at most {@link #MAX_FLOATS_PER_FORWARD} input values (several images' copies per forward), and
 * takes the vote: its top-5 and margin.
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
            Integer linf, Double l2, Double psnr, String error, Double voteMargin) {
        public Object[] values() {
            return EvalTables.PASS.check(
                    new Object[] {attack, imageId, target, defense, top1, top5, linf, l2, psnr, error, voteMargin});
        }
    }

    /**
     * Input values (rows x 3 x H x W) of one forward of randomized smoothing's noisy copies: 16 M
     * floats (64 MB), e.g. 1365 CIFAR or 27 ImageNet-224 copies, so n = 1000 copies never make one
     * huge tensor.
     */
    public static final int MAX_FLOATS_PER_FORWARD = 1 << 24 >> 2;

    private final String roundId;
    private final DatasetConfig dataset;
    private final List<Variant> variants;
    private final Storage storage;
    private final Ensemble targets;
    private final Map<String, Purifier> purifiers;

    public BatchScorer(String roundId, DatasetConfig dataset, List<Variant> variants, Storage storage, Ensemble targets) {
        this(roundId, dataset, variants, storage, targets, Map.of());
    }

    /**
     * @param purifiers the loaded purifiers by URI: every {@code purify} stage of {@code variants} must find its file here
     */
    public BatchScorer(String roundId, DatasetConfig dataset, List<Variant> variants, Storage storage, Ensemble targets,
            Map<String, Purifier> purifiers) {
        this.roundId = roundId;
        this.dataset = dataset;
        this.variants = List.copyOf(variants);
        this.storage = storage;
        this.targets = targets;
        this.purifiers = Map.copyOf(purifiers);
        for (Variant v : this.variants) {
            for (String p : v.chain().purifierPaths()) {
                if (!this.purifiers.containsKey(p)) {
                    throw new IllegalArgumentException("purifier " + p + " of defense chain " + v.chain().spec()
                            + " was not loaded (loaded: " + this.purifiers.keySet() + ")");
                }
            }
        }
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
        return Png.decodeInput(image.bytes(), image.uri());
    }

    /** The rows of an image that could not be read: one per defended target, with the error. */
    public List<PassRow> failed(Loaded l) {
        List<PassRow> rows = new ArrayList<>();
        for (Variant v : variants) {
            rows.add(row(l.item(), v, null, null, null, l.error(), null));
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
        List<String> ids = batch.stream().map(l -> l.item().imageId()).toList();
        List<RgbImage> images = batch.stream().map(Loaded::image).toList();
        for (Variant v : variants) {
            Voted voted = defended(v, ids, images, manager);
            for (int i = 0; i < batch.size(); i++) {
                rows.add(row(batch.get(i).item(), v, voted.top5()[i], pert[i], psnr[i], null, voted.margin()[i]));
            }
        }
        LOG.info("advspark evaluate: batch of {} images x {} defended targets in {} ms", batch.size(), variants.size(),
                (System.nanoTime() - t0) / 1_000_000);
        return rows;
    }

    /**
     * Top-1 labels (0-based) of {@code images} on every defended target, {@code [variant][image]}:
     * what {@link #score} would record, without rows or logs (the validation models of
     * {@code attack.stop} and {@code attack.search} ask this of the image about to be written).
     */
    public int[][] top1(List<String> imageIds, List<RgbImage> images, NDManager manager) throws InterruptedException {
        int[][][] top = top5(imageIds, images, manager);
        int[][] out = new int[variants.size()][images.size()];
        for (int v = 0; v < variants.size(); v++) {
            for (int i = 0; i < images.size(); i++) {
                out[v][i] = top[v][i][0];
            }
        }
        return out;
    }

    /** As {@link #top1}, the top-5 labels (fewer for fewer classes), {@code [variant][image][rank]}. */
    public int[][][] top5(List<String> imageIds, List<RgbImage> images, NDManager manager) throws InterruptedException {
        int[][][] out = new int[variants.size()][][];
        for (int v = 0; v < variants.size(); v++) {
            out[v] = defended(variants.get(v), imageIds, images, manager).top5();
        }
        return out;
    }

    /** The variants this scorer judges, in order. */
    public List<Variant> variants() {
        return variants;
    }

    /** Images through one defended target: top-k per image and the vote margins (null entries without rs). */
    private Voted defended(Variant v, List<String> imageIds, List<RgbImage> images, NDManager manager)
            throws InterruptedException {
        Classifier model = targets.members().get(v.member());
        int count = images.size();
        // Defended images, grouped by size (rp changes it; one tensor needs one shape).
        Map<String, List<Integer>> bySize = new LinkedHashMap<>();
        RgbImage[] defended = new RgbImage[count];
        Random[] rngs = new Random[count];
        for (int i = 0; i < count; i++) {
            // One stream per image: the image stages draw first, then rs's noise.
            rngs[i] = new Random(Draws.seedFor(roundId, v.chain().spec(), imageIds.get(i)));
            defended[i] = v.chain().apply(images.get(i), rngs[i]);
            bySize.computeIfAbsent(defended[i].height() + "x" + defended[i].width(), k -> new ArrayList<>()).add(i);
        }
        int[][] top5 = new int[count][];
        Double[] margin = new Double[count];
        for (List<Integer> group : bySize.values()) {
            int h = defended[group.get(0)].height();
            int w = defended[group.get(0)].width();
            int per = 3 * h * w;
            float[] px = new float[group.size() * per];
            for (int j = 0; j < group.size(); j++) {
                defended[group.get(j)].toUnitFloats(px, j * per);
            }
            int k = Math.min(5, model.card().datasetClasses());
            long[] shape = {group.size(), 3, h, w};
            if (v.chain().tensorStages().isEmpty()) {
                int[][] got = TorchThreads.call(() -> model.topK(px, shape, k, manager));
                for (int j = 0; j < group.size(); j++) {
                    top5[group.get(j)] = got[j];
                }
            } else {
                Random[] groupRngs = group.stream().map(i -> rngs[i]).toArray(Random[]::new);
                Voted got = TorchThreads.call(() -> tensorStages(v.chain(), model, px, shape, k, groupRngs, manager));
                for (int j = 0; j < group.size(); j++) {
                    top5[group.get(j)] = got.top5()[j];
                    margin[group.get(j)] = got.margin() == null ? null : got.margin()[j];
                }
            }
        }
        return new Voted(top5, margin);
    }

    /** Top-k labels of a group of images, and the vote margins when the chain smooths (else null). */
    private record Voted(int[][] top5, Double[] margin) {}

    /**
     * Runs a chain's tensor stages and the model on one group of same-sized images ({@code px},
     * NCHW in [0,1], after the image stages); {@code rngs} are the images' streams, each already past
     * the image stages' draws.
     */
    private Voted tensorStages(DefenseChain chain, Classifier model, float[] px, long[] shape, int k, Random[] rngs,
            NDManager manager) {
        List<TensorDefense> stages = chain.tensorStages();
        int rsAt = 0;
        while (rsAt < stages.size() && !(stages.get(rsAt) instanceof RandomizedSmoothing)) {
            rsAt++;
        }
        int images = (int) shape[0];
        int per = (int) (shape[1] * shape[2] * shape[3]);
        try (NDManager m = manager.newSubManager()) {
            NDArray x = m.create(px, new Shape(shape));
            x = purify(stages.subList(0, rsAt), x);
            if (rsAt == stages.size()) {
                NDArray purified = x;
                float[] z = Autograd.noGrad(() -> model.logits(purified).toFloatArray());
                return new Voted(Classifier.topKRows(z, images, k), null);
            }
            RandomizedSmoothing rs = (RandomizedSmoothing) stages.get(rsAt);
            List<TensorDefense> after = stages.subList(rsAt + 1, stages.size());
            float[] base = x.toFloatArray();
            int n = rs.samples();
            double sigma = rs.sigma();
            int classes = model.card().datasetClasses();
            float[] votes = new float[images * classes];
            long total = (long) images * n;
            int chunk = (int) Math.min(total, Math.max(Classifier.MIN_FORWARD_ROWS, MAX_FLOATS_PER_FORWARD / per));
            for (long r0 = 0; r0 < total; r0 += chunk) {
                int rows = (int) Math.min(chunk, total - r0);
                float[] noisy = new float[rows * per];
                // Row r is copy r % n of image r / n; rows are visited in order, so each image's
                // stream gives its copies' noise in copy order whatever the chunking.
                for (int j = 0; j < rows; j++) {
                    int img = (int) ((r0 + j) / n);
                    Random g = rngs[img];
                    int src = img * per;
                    int dst = j * per;
                    for (int q = 0; q < per; q++) {
                        noisy[dst + q] = base[src + q] + (float) (sigma * g.nextGaussian());
                    }
                }
                try (NDManager cm = m.newSubManager()) {
                    NDArray y = purify(after, cm.create(noisy, new Shape(rows, shape[1], shape[2], shape[3])));
                    int[] am = Autograd.noGrad(() -> Ensemble.argMaxRows(model.logits(y)));
                    for (int j = 0; j < rows; j++) {
                        votes[(int) ((r0 + j) / n) * classes + am[j]]++;
                    }
                }
            }
            int[][] top = Classifier.topKRows(votes, images, k);
            Double[] margin = new Double[images];
            for (int i = 0; i < images; i++) {
                float second = classes > 1 ? votes[i * classes + top[i][1]] : 0f;
                margin[i] = (votes[i * classes + top[i][0]] - second) / (double) n;
            }
            return new Voted(top, margin);
        }
    }

    private NDArray purify(List<TensorDefense> stages, NDArray x) {
        for (TensorDefense s : stages) {
            x = purifiers.get(((Purify) s).path()).apply(x);
        }
        return x;
    }

    private PassRow row(Item item, Variant v, int[] top5, Perturbation p, Double psnr, String error, Double voteMargin) {
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
                p == null ? null : p.linf(), p == null ? null : p.l2(), psnr, error, voteMargin);
    }
}
