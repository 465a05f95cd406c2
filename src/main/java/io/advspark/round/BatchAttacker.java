package io.advspark.round;

import ai.djl.ndarray.NDManager;
import io.advspark.attack.Attack;
import io.advspark.attack.AttackEngine;
import io.advspark.attack.Draws;
import io.advspark.attack.Quantizer;
import io.advspark.data.DatasetLayout;
import io.advspark.data.ManifestRow;
import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.data.Storage;
import io.advspark.model.BilinearResize;
import io.advspark.model.Ensemble;
import io.advspark.model.TorchThreads;
import io.advspark.attack.StopCheck;
import io.advspark.plan.AttackConfig;
import io.advspark.plan.NamedAttack;
import io.advspark.plan.ScoreAware;
import io.advspark.plan.RoundConfig;
import io.advspark.score.Perturbation;
import io.advspark.util.Fingerprint;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens to the images of a round on one worker, without Spark: read an image, attack a
 * group of same-size images with one attack configuration, quantise to 8 bits, encode and write
 * the PNGs, and make the {@link AttackRecord}s that describe what was written. The Spark adapter
 * ({@code job.PartitionAttacker}) feeds it a partition and commits its records; a unit test or a
 * notebook can drive it directly.
 */
public final class BatchAttacker {
    private static final Logger LOG = LoggerFactory.getLogger(BatchAttacker.class);

    /** Where a worker's time goes, reported through {@link Timing}. */
    public enum Phase {
        READ,
        ATTACK,
        ENCODE,
        WRITE
    }

    /** Receives the time of each phase (the Spark adapter adds it to accumulators). */
    @FunctionalInterface
    public interface Timing {
        Timing NONE = (phase, nanos) -> {};

        void add(Phase phase, long nanos);
    }

    /** An image read for attacking (or the reason it could not be), and the attacks it still needs. */
    public record Loaded(ManifestRow row, RgbImage image, String error, List<String> attacks) {
        public Loaded {
            attacks = List.copyOf(attacks);
        }

        /** The same image, to be attacked by {@code attackNames}. */
        public Loaded forAttacks(List<String> attackNames) {
            return new Loaded(row, image, error, attackNames);
        }
    }

    /** An attack configuration ready to run: its name, settings, parts, engine and record identity. */
    private record Runner(String name, AttackConfig config, Attack attack, AttackEngine engine, String identity) {}

    private record Attacked(int[] cleanPred, AttackEngine.Result result) {}

    private final RoundConfig config;
    private final RoundLayout layout;
    private final Storage storage;
    private final Provenance provenance;
    private final String executor;
    private final String device;
    private final Timing timing;
    private final Map<String, Runner> runners = new LinkedHashMap<>();
    private final Guides guides;
    /** The validation models through their defense chains, when an attack stops or searches on them. */
    private BatchScorer validation;

    /**
     * @param storage where images are read and PNGs written (fenced to the round by the caller)
     * @param ensemble the surrogates, open for this worker
     * @param provenance what every record carries (see {@link Provenance})
     * @param executor the worker's name, as records name it
     * @param device the compute device's name, as records name it
     * @param guideIds label -> ImageId of its guide image, when an attack's start needs guides
     */
    public BatchAttacker(RoundConfig config, Storage storage, Ensemble ensemble, Provenance provenance, String executor,
            String device, Map<Integer, String> guideIds, Timing timing) {
        this.config = config;
        this.layout = RoundLayout.of(config);
        this.storage = storage;
        this.provenance = java.util.Objects.requireNonNull(provenance, "record rows need the round's provenance");
        this.executor = executor;
        this.device = device;
        this.timing = timing;
        boolean needGuides = false;
        for (NamedAttack na : config.runnable()) {
            Attack attack = na.config().toAttack();
            runners.put(na.name(), new Runner(na.name(), na.config(), attack, new AttackEngine(attack, ensemble,
                    config.maxRows()), config.identity(na, attack)));
            needGuides |= attack.init().needsGuides();
        }
        if (needGuides && guideIds == null) {
            throw new IllegalStateException("an attack's init needs guide images: pass their ImageIds");
        }
        this.guides = needGuides ? new Guides(new TreeMap<>(guideIds)) : null;
    }

    /**
     * Gives the validation models ({@code role = validation}, each defended variant) that
     * {@code attack.stop} and {@code attack.search} with {@code until = "validation"} query.
     */
    public BatchAttacker withValidation(BatchScorer scorer) {
        this.validation = scorer;
        return this;
    }

    /** The attack names of the round, in order. */
    public List<String> attackNames() {
        return List.copyOf(runners.keySet());
    }

    /** Reads and decodes one manifest row's image; a failure is described, not thrown. */
    public Loaded read(ManifestRow r) {
        long t0 = System.nanoTime();
        try {
            return readImage(r);
        } finally {
            timing.add(Phase.READ, System.nanoTime() - t0);
        }
    }

    private Loaded readImage(ManifestRow r) {
        try {
            DatasetLayout.Image image;
            try {
                image = DatasetLayout.forName(config.dataset().layout()).read(storage, config.dataset().uri(), r.imageId());
            } catch (DatasetLayout.NotFound e) {
                return new Loaded(r, null, "image file not found: " + e.uri()
                        + (r.rowNumber() > 0 ? " (manifest line " + r.rowNumber() + ")" : ""), List.of());
            }
            return new Loaded(r, Png.decodeInput(image.bytes(), image.uri()), null, List.of());
        } catch (IOException | RuntimeException e) {
            return new Loaded(r, null, String.valueOf(e.getMessage()), List.of());
        }
    }

    /**
     * The images of {@code batch} that attack {@code attack} still needs, grouped by size (a
     * batch tensor needs one shape), in batch order.
     */
    public List<List<Loaded>> groups(String attack, List<Loaded> batch) {
        Map<String, List<Loaded>> bySize = new LinkedHashMap<>();
        for (Loaded l : batch) {
            if (l.attacks().contains(attack)) {
                bySize.computeIfAbsent(l.image().height() + "x" + l.image().width(), k -> new ArrayList<>()).add(l);
            }
        }
        return List.copyOf(bySize.values());
    }

    /**
     * Attacks one group of same-size images with attack {@code attackName}, writes their PNGs and
     * returns their records (to be committed by the caller, after the PNGs).
     */
    public List<AttackRecord> attack(String attackName, List<Loaded> group, NDManager manager)
            throws IOException, InterruptedException {
        Runner runner = runners.get(attackName);
        Attack attack = runner.attack();
        AttackEngine engine = runner.engine();
        long t0 = System.nanoTime();
        int n = group.size();
        int h = group.get(0).image().height();
        int w = group.get(0).image().width();
        int per = 3 * h * w;
        long[] shape = {n, 3, h, w};
        float[] clean = new float[n * per];
        int base = config.dataset().labelBase();
        int[] y = new int[n];
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            group.get(i).image().toUnitFloats(clean, i * per);
            y[i] = group.get(i).row().trueLabel() - base;
            t[i] = group.get(i).row().targetLabel() - base;
        }
        // One random stream per (round, attack, image): same image, same draws, in any batch.
        long[] seeds = new long[n];
        for (int i = 0; i < n; i++) {
            seeds[i] = Draws.seedFor(config.roundId(), attack.spec(), group.get(i).row().imageId());
        }
        Draws draws = new Draws(seeds);
        float[] guide = guides == null ? null : guides.batch(group, clean, h, w, manager);
        // Tensor work on a long-lived torch thread, not on Spark's task thread (see TorchThreads).
        long ta = System.nanoTime();
        // White-box predictions with the ensemble as the attack combines it (logits, probs or losses).
        StopCheck stop = stopCheck(runner, group, y, t, manager);
        Attacked a = TorchThreads.call(() -> new Attacked(engine.predict(clean, shape, manager),
                engine.runCounted(clean, shape, y, t, guide, draws, manager, null, stop)));
        int[] cleanPred = a.cleanPred();
        float[] adv = a.result().adversarial();
        int[] zeroSteps = a.result().zeroGradientSteps();
        long flat = java.util.Arrays.stream(zeroSteps).filter(z -> z > 0).count();
        if (flat > 0) {
            LOG.warn("advspark: {}: {} of {} images had a zero gradient at some step (records' zero_gradient_steps);"
                    + " such an image can be written unchanged", attackName, flat, n);
        }

        // Score what is written: the 8-bit images, not the float iterate.
        List<RgbImage> written = new ArrayList<>(n);
        float[] advPixels = new float[n * per];
        for (int i = 0; i < n; i++) {
            RgbImage q = Quantizer.toPixels(adv, i * per, group.get(i).image(), attack.epsPixels());
            q.toUnitFloats(advPixels, i * per);
            written.add(q);
        }
        int[] advPred = TorchThreads.call(() -> engine.predict(advPixels, shape, manager));
        // What a search decides on (and what a stop judged): the written PNG on the judging set.
        ScoreAware.Until on = runner.config().judgedOn();
        boolean[] met = null;
        if (on != null) {
            List<String> ids = group.stream().map(l -> l.row().imageId()).toList();
            met = TorchThreads.call(() -> judge(on, runner.config(), engine, ids, written, y, t, advPred, manager));
        }
        timing.add(Phase.ATTACK, System.nanoTime() - ta);
        long te = System.nanoTime();
        List<byte[]> pngs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            pngs.add(Png.encode(written.get(i)));
        }
        timing.add(Phase.ENCODE, System.nanoTime() - te);
        long tw = System.nanoTime();
        for (int i = 0; i < n; i++) {
            storage.writeAtomically(layout.png(attackName, group.get(i).row().imageId()), pngs.get(i));
        }
        timing.add(Phase.WRITE, System.nanoTime() - tw);
        long wallMs = (System.nanoTime() - t0) / 1_000_000;
        List<AttackRecord> records = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ManifestRow r = group.get(i).row();
            Perturbation p = Perturbation.between(group.get(i).image(), written.get(i));
            records.add(AttackRecord.builder()
                    .roundId(config.roundId())
                    .attackSpec(runner.identity())
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
                    .steps(a.result().stepsDone()[i])
                    .stopChecks(a.result().checks()[i])
                    .eps(attack.epsPixels())
                    .met(met == null ? null : met[i])
                    .batchSize(n)
                    .wallMs(wallMs / n)
                    .executorId(executor)
                    .device(device)
                    .outputFile(RoundLayout.relativePng(attackName, r.imageId()))
                    .pngBytes((long) pngs.get(i).length)
                    .pngCrc32c(Fingerprint.crc32c(pngs.get(i)))
                    .provenance(provenance)
                    .zeroGradientSteps(zeroSteps[i])
                    .build());
        }
        LOG.info("advspark: {}: batch of {} images ({}x{}) attacked in {} ms on executor {}", attackName, n, h, w, wallMs,
                executor);
        return records;
    }

    /**
     * The early exit of {@code runner}'s attack on {@code group} (null without {@code attack.stop}):
     * each running image is quantised as it would be written and judged by the stopping set. It
     * runs inside the engine, on the torch thread.
     */
    private StopCheck stopCheck(Runner runner, List<Loaded> group, int[] y, int[] t, NDManager manager) {
        ScoreAware.Stop rule = runner.config().stop();
        if (rule == null) {
            return null;
        }
        if (rule.until() == ScoreAware.Until.VALIDATION && validation == null) {
            throw new IllegalStateException("attack " + runner.name() + " stops on the validation models, which are not loaded");
        }
        double eps = runner.attack().epsPixels();
        AttackEngine engine = runner.engine();
        AttackConfig ac = runner.config();
        return new StopCheck() {
            @Override
            public int everySteps() {
                return rule.everySteps();
            }

            @Override
            public boolean[] done(int stepsDone, float[] images, long[] shape, int[] running) {
                int per = (int) (shape[1] * shape[2] * shape[3]);
                List<RgbImage> written = new ArrayList<>(running.length);
                for (int i = 0; i < running.length; i++) {
                    written.add(Quantizer.toPixels(images, i * per, group.get(running[i]).image(), eps));
                }
                int[] ys = new int[running.length];
                int[] ts = new int[running.length];
                for (int i = 0; i < running.length; i++) {
                    ys[i] = y[running[i]];
                    ts[i] = t[running[i]];
                }
                List<String> ids = java.util.Arrays.stream(running).mapToObj(i -> group.get(i).row().imageId()).toList();
                return judge(rule.until(), ac, engine, ids, written, ys, ts, null, manager);
            }
        };
    }

    /**
     * Whether each written image meets {@code ac}'s objective on the set {@code until}: the
     * surrogate ensemble (as the attack combines it); or every defended variant of every
     * validation model and, first, the surrogates: an image that does not fool its own surrogates
     * is never done, so early exit cannot lower the white-box rate. Labels 0-based;
     * {@code whitePred}, when given, is the surrogates' top-1 of {@code written} already computed.
     */
    private boolean[] judge(ScoreAware.Until until, AttackConfig ac, AttackEngine engine, List<String> ids,
            List<RgbImage> written, int[] y, int[] t, int[] whitePred, NDManager manager) {
        int n = written.size();
        boolean[] met = new boolean[n];
        int h = written.get(0).height();
        int w = written.get(0).width();
        int per = 3 * h * w;
        long[] shape = {n, 3, h, w};
        java.util.function.Supplier<float[]> pixels = () -> {
            float[] px = new float[n * per];
            for (int i = 0; i < n; i++) {
                written.get(i).toUnitFloats(px, i * per);
            }
            return px;
        };
        // The surrogates' top-1 of the written images, when the caller has it, decides at top-1.
        if (until == ScoreAware.Until.SURROGATES && (whitePred == null || ac.metTopK() > 1)) {
            int[][] top = engine.topK(pixels.get(), shape, ac.metTopK(), manager);
            for (int i = 0; i < n; i++) {
                met[i] = ac.met(top[i], y[i], t[i]);
            }
            return met;
        }
        int[] white = whitePred != null ? whitePred : engine.predict(pixels.get(), shape, manager);
        for (int i = 0; i < n; i++) {
            met[i] = ac.met(white[i], y[i], t[i]);
        }
        if (until == ScoreAware.Until.SURROGATES) {
            return met;
        }
        int[][][] top;
        try {
            top = validation.top5(ids, written, manager);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while querying the validation models", e);
        }
        for (int i = 0; i < n; i++) {
            for (int[][] variant : top) {
                met[i] &= ac.met(variant[i], y[i], t[i]);
            }
        }
        return met;
    }

    /** The record of a manifest row that attack {@code attackName} could not process. */
    public AttackRecord failed(String attackName, ManifestRow r, String error) {
        return AttackRecord.builder()
                .roundId(config.roundId())
                .attackSpec(runners.get(attackName).identity())
                .imageId(r.imageId())
                .manifestRow(r.rowNumber())
                .trueLabel(r.trueLabel() < 0 ? null : r.trueLabel())
                .targetLabel(r.targetLabel() < 0 ? null : r.targetLabel())
                .executorId(executor)
                .device(device)
                .error(error)
                .provenance(provenance)
                .build();
    }

    /**
     * The guide images of one worker: read from storage on first use (a few recent ones are
     * kept, as many images share a target class), resized to the image's size if needed. An
     * image whose target class has no usable guide is its own guide (the zeros start), with one
     * warning per class and worker.
     */
    private final class Guides {
        private static final int KEEP = 32;
        private final Map<Integer, String> guideIds;
        private final Map<String, RgbImage> recent = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, RgbImage> e) {
                return size() > KEEP;
            }
        };
        private final Set<String> unusable = new HashSet<>();
        private final Set<Integer> warned = new HashSet<>();

        Guides(Map<Integer, String> guideIds) {
            this.guideIds = guideIds;
        }

        float[] batch(List<Loaded> group, float[] clean, int h, int w, NDManager manager) throws InterruptedException {
            int per = 3 * h * w;
            float[] out = new float[clean.length];
            for (int i = 0; i < group.size(); i++) {
                ManifestRow r = group.get(i).row();
                RgbImage g = image(r.targetLabel());
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

        private RgbImage image(int label) {
            String id = guideIds.get(label);
            if (id == null) {
                warn(label, "the manifest has no usable image of class " + label);
                return null;
            }
            RgbImage g = recent.get(id);
            if (g != null || unusable.contains(id)) {
                return g;
            }
            Loaded l = readImage(new ManifestRow(0, id, label, -1, null));
            if (l.error() != null) {
                unusable.add(id);
                warn(label, "its guide image " + id + " cannot be read: " + l.error());
                return null;
            }
            recent.put(id, l.image());
            return l.image();
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
}
