package io.advspark.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.Attack;
import io.advspark.attack.AttackEngine;
import io.advspark.attack.Draws;
import io.advspark.attack.StepObserver;
import io.advspark.attack.loss.CrossEntropy;
import io.advspark.data.ManifestRow;
import io.advspark.model.Autograd;
import io.advspark.model.Ensemble;
import io.advspark.model.ModelBundle;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.AttackConfig;
import io.advspark.testing.Fixtures;
import java.nio.file.Path;
import io.advspark.util.ProcessMemory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Per-iteration cost of each attack part, relative to plain MI-FGSM and to a bare forward+backward
 * of the ensemble (the catalogue issue's benchmark). {@code jobs/bench --parts} runs it on the
 * MobileNet ensemble and formats the table.
 *
 * <p>Every recipe is the baseline {@code mi(decay=1.0)} (CE, zeros start, logit ensemble, one
 * copy) with ONE part added or swapped, run through the real {@link AttackEngine} on the same
 * BATCH real images. Each step is timed through the {@link StepObserver} (the time between the
 * ends of consecutive steps; step 0 from the call, so it carries the one-off start: init, budget
 * tensors); the per-iteration figure is the median over steps 1..STEPS-1 of every repetition, with
 * the quartiles beside it. The forwards of each step are counted through
 * {@link StepObserver#onForward}: "forwards" is ensemble forwards per iteration and "rows" the
 * batch each of them carried, which shows that copies (SI, Admix, {@code copies=k}) go through
 * the surrogates as one forward, not one per copy.
 *
 * <p>Bare lines (no engine): the ensemble's CE forward+backward to the input
 * ({@code Autograd.gradient}, as {@code KernelBench}'s ensemble step), and five SI scale copies
 * done both ways, batched (one 5 x BATCH-row forward+backward) and looped (five BATCH-row
 * forward+backwards), to show what batching buys on this machine.
 *
 * <p>Noise: each recipe has its own warm-up run first (the TorchScript executor profiles and
 * specialises per input shape, and copies change the shape); repetitions are interleaved (every
 * recipe once, then again), so a load change on the machine hits all rows alike; medians and
 * quartiles rather than means.
 *
 * <p>Rows that need other exports of the same surrogates: {@code --tapped} (exported with feature
 * taps) adds the feature-level losses, run on that ensemble (their per-attack preparation, e.g.
 * ILA's reference attack or FIA's masked copies, falls in the first step); each {@code --variant}
 * (exported with a backward-pass change: SGM, LinBP, BPA) adds plain MI on that ensemble.
 *
 * <p>Usage: {@code PartCostBench [--threads N] [--batch N] [--steps N] [--reps N] [--data DIR]
 * [--label-base B] [--models A.pt,B.pt] [--tapped A.pt,B.pt [--tap NAME]] [--variant LABEL=A.pt,B.pt]...
 * [--only REGEX]} ({@code --help} lists them with their
 * defaults); {@code --only} keeps the recipes whose label matches (the baseline and the bare
 * forward+backward always run). Prints one JSON line per row on stdout, progress on stderr.
 */
@Command(name = "PartCostBench",
        description = "Per-iteration cost of each attack part against plain MI-FGSM and the bare ensemble"
                + " forward+backward; one JSON line per row on stdout (jobs/bench --parts).")
public final class PartCostBench extends BenchCommand {
    @Mixin
    BenchOptions.Torch torch = new BenchOptions.Torch();

    @Option(names = "--batch", paramLabel = "N", description = "images attacked (the first N; the next N guide the target start)")
    int batch = 10;

    @Option(names = "--steps", paramLabel = "N", description = "attack steps per repetition, >= 2 (step 0 carries the one-off start)")
    int steps = 5;

    @Option(names = "--reps", paramLabel = "N", description = "measured repetitions per row, interleaved across rows")
    int reps = 5;

    @Mixin
    BenchOptions.Data data = new BenchOptions.Data("nips17-dev-300", 1);

    @Option(names = "--models", paramLabel = "PT", split = ",", description = "the ensemble's TorchScript models (logits, weights 1)")
    List<Path> models = new ArrayList<>(List.of(sharedModel("imagenet", "mobilenet_v1_0.25_128"),
            sharedModel("imagenet", "mobilenet_v1_0.5_160")));

    @Option(names = "--tapped", paramLabel = "PT", split = ",",
            description = "the same surrogates exported with feature taps (tools/export_model.py --taps): adds a row per"
                    + " feature-level loss (ILA, FIA, NAA, ILPD) on that ensemble")
    List<Path> tapped = new ArrayList<>();

    @Option(names = "--tap", paramLabel = "NAME", description = "the tap the feature-level rows use")
    String tap = "layer2";

    @Option(names = "--variant", paramLabel = "LABEL=A.pt,B.pt",
            description = "the same surrogates exported with a backward-pass change (tools/export_model.py --backward):"
                    + " adds an MI row on that ensemble, labelled 'surrogates LABEL'; repeatable")
    List<String> variants = new ArrayList<>();

    @Option(names = "--only", paramLabel = "REGEX",
            description = "run only the rows whose label matches (found anywhere in it); the baseline and the bare"
                    + " forward+backward always run")
    String only = ".*";

    /** One row of the table: an engine recipe or a bare measurement. */
    private abstract static class Row {
        final String label;
        final List<Double> iter = new ArrayList<>();
        final List<Double> first = new ArrayList<>();
        /** Median per iteration of each repetition, in order: shows drift of the machine's load. */
        final List<Double> perRep = new ArrayList<>();
        final TreeSet<Integer> forwards = new TreeSet<>();
        final TreeSet<Integer> rows = new TreeSet<>();
        /** Peak resident memory above the resident memory before each repetition (-1: not measurable). */
        long peakBytes = -1;
        String spec = "";
        String skipped;

        Row(String label) {
            this.label = label;
        }

        /** One measured (or warm-up) repetition. */
        abstract void measure(boolean record);
    }

    public static void main(String[] args) {
        BenchCommand.main(new PartCostBench(), args);
    }

    @Override
    protected void run() throws Exception {
        int threads = torch.threads;
        Path data = this.data.dir;
        int labelBase = this.data.labelBase;
        String[] models = this.models.stream().map(Path::toString).toArray(String[]::new);
        Pattern only = Pattern.compile(this.only);
        if (steps < 2) {
            throw new IllegalArgumentException("--steps must be >= 2 (step 0 carries the one-off start)");
        }
        torch.start();
        // BATCH images to attack, and the next BATCH as the target start's guide images.
        List<ManifestRow> all = Fixtures.manifest(data, labelBase, 2 * batch);
        if (all.size() < 2 * batch) {
            throw new IllegalArgumentException(data + " has fewer than " + 2 * batch + " images");
        }
        List<ManifestRow> rows = all.subList(0, batch);
        var imgs = Fixtures.images(data, rows);
        float[] clean = Fixtures.batch(imgs);
        float[] guides = Fixtures.batch(Fixtures.images(data, all.subList(batch, 2 * batch)));
        long[] shape = {batch, 3, imgs.get(0).height(), imgs.get(0).width()};
        int[] y = rows.stream().mapToInt(r -> r.trueLabel() - labelBase).toArray();
        int[] t = rows.stream().mapToInt(r -> r.targetLabel() - labelBase).toArray();
        List<ModelBundle> bundles = new ArrayList<>();
        for (String f : models) {
            bundles.add(Fixtures.bundle(Path.of(f).toAbsolutePath(), 1.0));
        }
        List<Ensemble> others = new ArrayList<>();
        try (Ensemble ens = Ensemble.load(bundles); NDManager m = TorchRuntime.newManager(Device.cpu())) {
            List<Row> table = new ArrayList<>();
            table.add(bare("ensemble forward+backward", ens, m, clean, shape, y, 1, false, steps));
            table.add(engine("MI (baseline)", recipe("mi(decay=1.0)"), ens, m, clean, guides, shape, y, t, steps));
            List<Row> parts = new ArrayList<>();
            parts.add(engine("update NI", recipe("ni(decay=1.0)"), ens, m, clean, guides, shape, y, t, steps));
            parts.add(engine("update VMI(n=20)", recipe("vmi(decay=1.0, n=20, beta=1.5)"), ens, m, clean, guides, shape, y, t, steps));
            parts.add(engine("update PGN(n=20)", recipe("pgn(decay=1.0, n=20, delta=0.5, zeta=3.0)"), ens, m, clean, guides, shape, y, t, steps));
            parts.add(engine("update GRA(n=20)", recipe("gra(decay=1.0, n=20, beta=3.5, eta=0.94)"), ens, m, clean, guides, shape, y, t, steps));
            parts.add(engine("update EMI(n=11)", recipe("emi(decay=1.0, n=11, eta=7)"), ens, m, clean, guides, shape, y, t, steps));
            parts.add(engine("update MEF(n=20)", recipe("mef(decay=0.5, inner=0.9, n=20, gamma=2, xi=0.15)"), ens, m, clean, guides, shape, y, t, steps));
            parts.add(engine("update I-FGSM", recipe("ifgsm"), ens, m, clean, guides, shape, y, t, steps));
            String[][] inputs = {
                {"input DI", "di(p=0.5, resize=1.1)"},
                {"input SI(5)", "si(copies=5)"},
                {"input Admix(3x5)", "admix(strength=0.2, mixes=3, copies=5)"},
                {"input SSA(20)", "ssa(copies=20, rho=0.5, sigma=1)"},
                {"input BSR(20)", "bsr(blocks=2, degrees=24, copies=20)"},
                {"input SIA(20)", "sia(blocks=3, copies=20, ops=all)"},
                {"input OPS(10x20)", "ops(neighbors=10, operators=20, beta=2, min_level=2, max_level=4)"},
                // Two passes of the 20 copies per step: the inner warp step's and the engine's.
                {"input DeCowA(20)", "decowa(copies=20, mesh=3, noise=2.0, rho=0.01)"},
                {"input translate", "translate"},
                {"input rotate", "rotate"},
                {"input flip", "flip"},
                {"input noise", "noise"},
                {"input brightness", "brightness"},
                {"input jpeg(75)", "jpeg(quality=75)"},
            };
            for (String[] i : inputs) {
                parts.add(engine(i[0], recipe("mi(decay=1.0)").inputs(i[1]), ens, m, clean, guides, shape, y, t, steps));
            }
            parts.add(engine("gradient TI(15)", recipe("mi(decay=1.0)").gradients("ti(kernel=gaussian, size=15, sigma=3)"),
                    ens, m, clean, guides, shape, y, t, steps));
            parts.add(engine("gradient l1", recipe("mi(decay=1.0)").gradients("l1"), ens, m, clean, guides, shape, y, t, steps));
            parts.add(engine("filter gaussian", recipe("mi(decay=1.0)").filter("gaussian(sigma=1)"), ens, m, clean, guides, shape, y, t, steps));
            parts.add(engine("filter dct", recipe("mi(decay=1.0)").filter("dct(keep=0.25)"), ens, m, clean, guides, shape, y, t, steps));
            for (String l : List.of("logit", "margin", "potrip")) {
                parts.add(engine("loss " + l, recipe("mi(decay=1.0)").loss(l), ens, m, clean, guides, shape, y, t, steps));
            }
            for (String i : List.of("uniform", "perlin", "target")) {
                parts.add(engine("init " + i, recipe("mi(decay=1.0)").init(i), ens, m, clean, guides, shape, y, t, steps));
            }
            for (String e : List.of("probs", "losses")) {
                parts.add(engine("ensemble " + e, recipe("mi(decay=1.0)").ensemble(e), ens, m, clean, guides, shape, y, t, steps));
            }
            parts.add(engine("ensemble SVRE(m=4K)", recipe("mi(decay=1.0)").ensemble("svre(m=0, inner_decay=1, beta=1)"), ens, m,
                    clean, guides, shape, y, t, steps));
            parts.add(engine("ensemble CWA", recipe("mi(decay=1.0)").ensemble("cwa"), ens, m, clean, guides, shape, y, t, steps));
            parts.add(engine("ensemble AdaEA", recipe("mi(decay=1.0)").ensemble("adaea(beta=10, threshold=-0.3)"), ens, m, clean,
                    guides, shape, y, t, steps));
            parts.add(engine("copies=4", recipe("mi(decay=1.0)").copies(4), ens, m, clean, guides, shape, y, t, steps));
            parts.add(engine("augment dropout", recipe("mi(decay=1.0)").augment("dropout(p=0.006)"), ens, m, clean, guides, shape, y, t, steps));
            if (!tapped.isEmpty()) {
                // Feature-level losses need every member's tap: the same surrogates, exported with taps.
                Ensemble taps = load(tapped, others);
                String[][] losses = {
                    {"loss ILA(10+)", "ila(tap=" + tap + ", reference=mi, reference_steps=10)"},
                    {"loss FIA(30)", "fia(tap=" + tap + ", drop=0.3, copies=30)"},
                    {"loss NAA(30)", "naa(tap=" + tap + ", n=30, gamma=1.0)"},
                    {"loss ILPD", "ilpd(tap=" + tap + ", gamma=0.1, sigma=0.05)"},
                };
                for (String[] l : losses) {
                    parts.add(engine(l[0], recipe("mi(decay=1.0)").loss(l[1]), taps, m, clean, guides, shape, y, t, steps));
                }
            }
            for (String v : variants) {
                int eq = v.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("--variant takes LABEL=A.pt,B.pt, got " + v);
                }
                List<Path> files = Arrays.stream(v.substring(eq + 1).split(",")).map(Path::of).toList();
                parts.add(engine("surrogates " + v.substring(0, eq), recipe("mi(decay=1.0)"), load(files, others), m, clean,
                        guides, shape, y, t, steps));
            }
            parts.add(bare("SI(5) copies batched, bare", ens, m, clean, shape, y, 5, false, steps));
            parts.add(bare("SI(5) copies looped, bare", ens, m, clean, shape, y, 5, true, steps));
            for (Row r : parts) {
                if (only.matcher(r.label).find()) {
                    table.add(r);
                }
            }

            for (Row r : table) { // warm-up: one full run per row, not recorded
                if (r.skipped == null) {
                    System.err.printf(Locale.ROOT, "partbench: warm-up %s%n", r.label);
                    r.measure(false);
                }
            }
            for (int rep = 0; rep < reps; rep++) {
                for (Row r : table) {
                    if (r.skipped != null) {
                        continue;
                    }
                    System.gc(); // outside the timed region
                    // Free pages back to the kernel, then the peak from here: the row's own growth.
                    ProcessMemory.trimMalloc();
                    long resident = ProcessMemory.residentBytes();
                    boolean peak = resident > 0 && ProcessMemory.resetPeak();
                    long t0 = System.nanoTime();
                    int before = r.iter.size();
                    r.measure(true);
                    if (peak) {
                        r.peakBytes = Math.max(r.peakBytes, ProcessMemory.peakBytes() - resident);
                    }
                    r.perRep.add(quantile(r.iter.subList(before, r.iter.size()).stream().mapToDouble(Double::doubleValue).toArray(), 0.5));
                    System.err.printf(Locale.ROOT, "partbench: rep %d/%d %-32s %8.0f ms%n", rep + 1, reps, r.label,
                            (System.nanoTime() - t0) / 1e6);
                }
            }
            for (Row r : table) {
                print(r, threads, batch, steps, reps);
            }
        } finally {
            others.forEach(Ensemble::close);
        }
    }

    /** An ensemble of {@code files} (logits, weights 1), closed with the run. */
    private static Ensemble load(List<Path> files, List<Ensemble> opened) throws Exception {
        List<ModelBundle> b = new ArrayList<>();
        for (Path f : files) {
            b.add(Fixtures.bundle(f.toAbsolutePath(), 1.0));
        }
        Ensemble e = Ensemble.load(b);
        opened.add(e);
        return e;
    }

    private static void print(Row r, int threads, int batch, int steps, int reps) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "{\"label\": %s, \"spec\": %s", json(r.label), json(r.spec)));
        if (r.skipped != null) {
            b.append(", \"skipped\": ").append(json(r.skipped));
        } else {
            double[] it = r.iter.stream().mapToDouble(Double::doubleValue).toArray();
            b.append(String.format(Locale.ROOT, ", \"ms\": %.2f, \"p25\": %.2f, \"p75\": %.2f, \"samples\": %d",
                    quantile(it, 0.5), quantile(it, 0.25), quantile(it, 0.75), it.length));
            if (!r.first.isEmpty()) {
                b.append(String.format(Locale.ROOT, ", \"first_ms\": %.2f",
                        quantile(r.first.stream().mapToDouble(Double::doubleValue).toArray(), 0.5)));
            }
            b.append(", \"per_rep\": [").append(String.join(", ",
                    r.perRep.stream().map(v -> String.format(Locale.ROOT, "%.1f", v)).toList())).append(']');
            b.append(", \"forwards\": ").append(json(range(r.forwards)));
            b.append(", \"rows\": ").append(json(range(r.rows)));
            if (r.peakBytes >= 0) {
                b.append(String.format(Locale.ROOT, ", \"peak_mib\": %.0f", r.peakBytes / 1048576.0));
            }
        }
        b.append(String.format(Locale.ROOT, ", \"threads\": %d, \"batch\": %d, \"steps\": %d, \"reps\": %d}", threads, batch,
                steps, reps));
        System.out.println(b);
    }

    /** The baseline's config with one field changed at a time. */
    private record Recipe(String update, List<String> inputs, List<String> gradients, String loss, String init,
            String filter, String ensemble, int copies, List<String> augment) {
        Recipe inputs(String s) {
            return new Recipe(update, List.of(s), gradients, loss, init, filter, ensemble, copies, augment);
        }

        Recipe gradients(String s) {
            return new Recipe(update, inputs, List.of(s), loss, init, filter, ensemble, copies, augment);
        }

        Recipe loss(String s) {
            return new Recipe(update, inputs, gradients, s, init, filter, ensemble, copies, augment);
        }

        Recipe init(String s) {
            return new Recipe(update, inputs, gradients, loss, s, filter, ensemble, copies, augment);
        }

        Recipe filter(String s) {
            return new Recipe(update, inputs, gradients, loss, init, s, ensemble, copies, augment);
        }

        Recipe ensemble(String s) {
            return new Recipe(update, inputs, gradients, loss, init, filter, s, copies, augment);
        }

        Recipe copies(int k) {
            return new Recipe(update, inputs, gradients, loss, init, filter, ensemble, k, augment);
        }

        Recipe augment(String s) {
            return new Recipe(update, inputs, gradients, loss, init, filter, ensemble, copies, List.of(s));
        }

        /** eps 16 and step 1.6 as the benchmark round (the step size does not change the cost). */
        AttackConfig config(int steps) {
            return AttackConfig.builder().eps(16).steps(steps).stepSize(1.6).update(update).inputs(inputs)
                    .gradients(gradients).loss(loss).init(init).filter(filter).ensemble(ensemble).copies(copies)
                    .augments(augment).build();
        }
    }

    private static Recipe recipe(String update) {
        return new Recipe(update, List.of(), List.of(), "", "zeros", "none", "logits", 1, List.of());
    }

    /** A recipe through the real engine; the observer times the steps and counts the forwards. */
    private static Row engine(String label, Recipe recipe, Ensemble ens, NDManager m, float[] clean, float[] guides,
            long[] shape, int[] y, int[] t, int steps) {
        Attack attack = recipe.config(steps).toAttack();
        AttackEngine built;
        String skipped = null;
        try {
            built = new AttackEngine(attack, ens);
        } catch (IllegalArgumentException e) { // e.g. dropout on models without dropout sites
            built = null;
            skipped = e.getMessage();
        }
        AttackEngine engine = built;
        int n = (int) shape[0];
        Row row = new Row(label) {
            @Override
            void measure(boolean record) {
                long[] ends = new long[steps];
                int[] fwd = new int[steps];
                TreeSet<Integer> seenRows = new TreeSet<>();
                StepObserver obs = new StepObserver() {
                    @Override
                    public void onStep(int step, NDArray x, NDArray mom, NDArray g, NDArray nx, NDArray nm) {
                        ends[step] = System.nanoTime();
                    }

                    @Override
                    public void onForward(int step, int member, String model, int rows) {
                        // step -1: a feature loss's once-per-attack preparation, timed in the first step.
                        if (member == 0 && step >= 0) {
                            fwd[step]++;
                            seenRows.add(rows);
                        }
                    }
                };
                long start = System.nanoTime();
                engine.run(clean, shape, y, t, guides, Draws.sequential(n), m, obs);
                if (!record) {
                    return;
                }
                first.add((ends[0] - start) / 1e6);
                for (int s = 1; s < steps; s++) {
                    iter.add((ends[s] - ends[s - 1]) / 1e6);
                    forwards.add(fwd[s]);
                }
                rows.addAll(seenRows);
            }
        };
        row.spec = attack.spec().replaceFirst("^eps=\\S+ steps=\\S+ step=\\S+ ", "");
        row.skipped = skipped;
        return row;
    }

    /**
     * The ensemble's CE gradient with respect to the input, without the engine: one call on the
     * batch ({@code copies == 1}), or the SI scales {@code x / 2^i} of {@code copies} copies,
     * concatenated into one forward+backward or looped one forward+backward per copy.
     */
    private static Row bare(String label, Ensemble ens, NDManager m, float[] clean, long[] shape, int[] y, int copies,
            boolean looped, int steps) {
        CrossEntropy ce = new CrossEntropy(1, 0);
        NDArray x = m.create(clean, new Shape(shape));
        int[] yk = new int[y.length * copies];
        for (int j = 0; j < copies; j++) {
            System.arraycopy(y, 0, yk, j * y.length, y.length);
        }
        Row row = new Row(label) {
            @Override
            void measure(boolean record) {
                int[] calls = new int[1];
                TreeSet<Integer> seenRows = new TreeSet<>();
                Ensemble.MemberMasks count = (i, member, r, mgr) -> { // observes, returns the plain forward
                    if (i == 0) {
                        calls[0]++;
                        seenRows.add(r);
                    }
                    return null;
                };
                for (int s = 0; s < steps; s++) {
                    calls[0] = 0;
                    long t0 = System.nanoTime();
                    try (NDManager scratch = m.newSubManager()) {
                        if (looped) {
                            NDArray sum = null;
                            for (int j = 0; j < copies; j++) {
                                int copy = j;
                                NDArray g = Autograd.gradient(x, v -> ce.of(
                                        ens.logits(copy == 0 ? v : v.div((float) Math.pow(2, copy)), count), y, y)
                                        .div((float) copies), scratch);
                                sum = sum == null ? g : sum.add(g);
                            }
                        } else {
                            Autograd.gradient(x, v -> {
                                NDList scaled = new NDList(copies);
                                for (int j = 0; j < copies; j++) {
                                    scaled.add(j == 0 ? v : v.div((float) Math.pow(2, j)));
                                }
                                NDArray in = copies == 1 ? v : NDArrays.concat(scaled, 0);
                                NDArray loss = ce.of(ens.logits(in, count), yk, yk);
                                return copies == 1 ? loss : loss.div((float) copies);
                            }, scratch);
                        }
                    }
                    if (record && s > 0) { // as the engine rows: the first call of a repetition is left out
                        iter.add((System.nanoTime() - t0) / 1e6);
                        forwards.add(calls[0]);
                    }
                }
                if (record) {
                    rows.addAll(seenRows);
                }
            }
        };
        row.spec = copies == 1 ? "Autograd.gradient(CE(ensemble.logits(x)))"
                : (looped ? copies + " x gradient(CE(ensemble.logits(x/2^i)))" : "gradient(CE(ensemble.logits(concat x/2^i)))");
        return row;
    }

    private static String range(TreeSet<Integer> v) {
        if (v.isEmpty()) {
            return "-";
        }
        return v.first().equals(v.last()) ? v.first().toString() : v.first() + "-" + v.last();
    }

    static double quantile(double[] v, double q) {
        double[] s = v.clone();
        Arrays.sort(s);
        if (s.length == 0) {
            return Double.NaN;
        }
        double pos = q * (s.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }

    private static String json(String s) {
        return Machine.quote(s);
    }
}
