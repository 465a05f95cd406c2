package io.advspark.experiments;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.advspark.attack.Attack;
import io.advspark.attack.AttackEngine;
import io.advspark.attack.Draws;
import io.advspark.attack.Quantizer;
import io.advspark.bench.BenchCommand;
import io.advspark.bench.BenchOptions;
import io.advspark.data.ManifestRow;
import io.advspark.data.RgbImage;
import io.advspark.defense.DefenseChain;
import io.advspark.model.Ensemble;
import io.advspark.model.ModelBundle;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.AttackConfig;
import io.advspark.testing.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The transfer experiment of the catalogue: craft on surrogates, count untargeted success on
 * held-out targets, for MI, MI-DI, MI-DI-TI, MI-DI-TI-SI, MI-DI-TI-SI-Admix, each with and
 * without a Gaussian perturbation filter. Scored on the 8-bit images that would be written.
 * Run with {@code jobs/experiment-transfer}; prints a markdown table and appends it to a file.
 *
 * <p>Options ({@code --help} lists them with their defaults): {@code --data --label-base --images
 * --eps --steps --ti-size --filter-sigma --out --surrogates --targets --defenses --filters --recipes
 * --threads}. The defaults of {@code --filters} and {@code --recipes} are the system properties
 * {@code advspark.filters} and {@code advspark.recipes}, so jobs/experiment-transfer's documented
 * {@code JAVA_OPTS="-Dadvspark.filters=gaussian -Dadvspark.recipes=MI,MI-DI"} still picks a subset.
 */
@Command(name = "TransferExperiment",
        description = "Transfer of MI .. MI-DI-TI-SI-Admix, with and without a Gaussian perturbation filter: untargeted"
                + " success on held-out targets (plain and behind --defenses); prints the table and appends it to --out"
                + " (jobs/experiment-transfer runs it on NIPS-17 and on CIFAR-10).")
public final class TransferExperiment extends BenchCommand {
    @Mixin
    BenchOptions.Data dataset = new BenchOptions.Data("nips17-dev-300", 1);

    @Option(names = "--images", paramLabel = "N", description = "the first N images of the dataset")
    int limit = 100;

    @Option(names = "--eps", paramLabel = "E", description = "L-inf budget, in 0..255 pixel levels")
    double eps = 16;

    @Option(names = "--steps", paramLabel = "N", description = "attack steps (step size eps / steps)")
    int steps = 10;

    @Option(names = "--ti-size", paramLabel = "K", description = "TI's Gaussian kernel size (sigma 3)")
    int tiSize = 15;

    @Option(names = "--filter-sigma", paramLabel = "S", description = "sigma of the Gaussian perturbation filter (as written in its spec)")
    String sigma = "2";

    @Mixin
    BenchOptions.Table tableFile = new BenchOptions.Table(Path.of("docs/transfer-experiment.md"));

    @Option(names = "--surrogates", paramLabel = "PT", split = ",", description = "the surrogates the examples are crafted on")
    List<Path> surrogatePaths = new ArrayList<>(List.of(sharedModel("imagenet", "mobilenet_v1_0.25_128"),
            sharedModel("imagenet", "mobilenet_v1_0.5_160")));

    @Option(names = "--targets", paramLabel = "PT", split = ",", description = "held-out targets")
    List<Path> targetPaths = new ArrayList<>(List.of(sharedModel("imagenet", "mobilenet_v2_1.0_224")));

    @Option(names = "--defenses", paramLabel = "CHAINS", defaultValue = "",
            description = "also score every target behind each of these deterministic defense chains, ';'-separated"
                    + " (e.g. \"jpeg(75);bits(4)\"); none by default")
    String defenses;

    @Option(names = "--filters", paramLabel = "none|gaussian|both", defaultValue = "${sys:advspark.filters:-both}",
            description = "run the unfiltered recipes, the Gaussian-filtered ones or both")
    String filters;

    @Option(names = "--recipes", paramLabel = "NAME", split = ",", defaultValue = "${sys:advspark.recipes}",
            description = "run only these of MI, MI-DI, MI-DI-TI, MI-DI-TI-SI, MI-DI-TI-SI-Admix (all by default)")
    Set<String> recipesOnly;

    @Mixin
    BenchOptions.Torch torch = new BenchOptions.Torch();

    public static void main(String[] args) {
        BenchCommand.main(new TransferExperiment(), args);
    }

    @Override
    protected void run() throws Exception {
        Path data = dataset.dir;
        int labelBase = dataset.labelBase;
        Path out = tableFile.out;
        List<ModelBundle> surrogates = bundles(surrogatePaths);
        List<ModelBundle> targets = bundles(targetPaths);
        torch.start();
        // --defenses "jpeg(75);bits(4)" also scores every target behind each chain.
        List<DefenseChain> chains = new ArrayList<>(List.of(DefenseChain.NONE));
        for (String c : defenses.split(";")) {
            if (!c.isBlank()) {
                DefenseChain chain = DefenseChain.parse(c);
                if (chain.randomised()) {
                    throw new IllegalArgumentException("the experiment takes deterministic defenses only: " + c);
                }
                chains.add(chain);
            }
        }

        List<ManifestRow> rows = Fixtures.manifest(data, labelBase, limit);
        List<RgbImage> imgs = Fixtures.images(data, rows);
        String di = "di(p=0.5, resize=1.1)";
        String ti = "ti(kernel=gaussian, size=" + tiSize + ", sigma=3)";
        String[][] recipes = {
            {"MI", ""}, {"MI-DI", di}, {"MI-DI-TI", di}, {"MI-DI-TI-SI", di + ";si(copies=5)"},
            {"MI-DI-TI-SI-Admix", di + ";admix(strength=0.2, mixes=3, copies=5)"},
        };
        StringBuilder table = new StringBuilder();
        table.append(String.format(Locale.ROOT, "%n%s, %d images, eps %s, %d steps, surrogates %s%n%n", data.getFileName(),
                rows.size(), eps, steps, names(surrogates)));
        table.append("| recipe | filter | white-box (surrogates) |");
        for (ModelBundle t : targets) {
            for (DefenseChain c : chains) {
                table.append(" ").append(c.isNone() ? "" : c.spec().replace(" > model", " > ")).append(t.card().name()).append(" |");
            }
        }
        table.append(" seconds |\n|---|---|---:|");
        for (int k = 0; k < targets.size() * chains.size(); k++) {
            table.append("---:|");
        }
        table.append("---:|\n");
        System.out.print(table);
        try (Ensemble surr = Ensemble.load(surrogates); NDManager m = TorchRuntime.newManager(Device.cpu())) {
            List<Ensemble> tens = new ArrayList<>();
            for (ModelBundle t : targets) {
                tens.add(Ensemble.load(List.of(t)));
            }
            // --filters none|gaussian|both and --recipes MI,MI-DI,... run a subset.
            Set<String> only = recipesOnly == null || recipesOnly.isEmpty() ? null : recipesOnly;
            for (String filter : new String[] {"none", "gaussian(sigma=" + sigma + ")"}) {
                if (!filters.equals("both") && !filter.startsWith(filters)) {
                    continue;
                }
                for (String[] r : recipes) {
                    if (only != null && !only.contains(r[0])) {
                        continue;
                    }
                    List<String> inputs = r[1].isEmpty() ? List.of() : List.of(r[1].split(";"));
                    List<String> grads = r[0].contains("TI") ? List.of(ti) : List.of();
                    AttackConfig cfg = AttackConfig.builder().eps(eps).steps(steps).stepSize(eps / steps)
                            .update("mi(decay=1.0)").inputs(inputs).gradients(grads).filter(filter).build();
                    Attack attack = cfg.toAttack();
                    long t0 = System.nanoTime();
                    int[] fooledSurr = {0};
                    int[] fooled = new int[targets.size() * chains.size()];
                    int batch = 10;
                    for (int s = 0; s < rows.size(); s += batch) {
                        List<ManifestRow> br = rows.subList(s, Math.min(rows.size(), s + batch));
                        List<RgbImage> bi = imgs.subList(s, s + br.size());
                        int per = bi.get(0).pixels().length;
                        long[] shape = {br.size(), 3, bi.get(0).height(), bi.get(0).width()};
                        int[] y = br.stream().mapToInt(x -> x.trueLabel() - labelBase).toArray();
                        long[] seeds = br.stream().mapToLong(x -> Draws.seedFor("transfer", attack.spec(), x.imageId())).toArray();
                        float[] adv = new AttackEngine(attack, surr).run(Fixtures.batch(bi), shape, y, y, new Draws(seeds), m, null);
                        RgbImage[] px = new RgbImage[br.size()];
                        for (int i = 0; i < br.size(); i++) {
                            px[i] = Quantizer.toPixels(adv, i * per, bi.get(i), eps);
                        }
                        for (int c = 0; c < chains.size(); c++) {
                            float[] q = new float[adv.length];
                            for (int i = 0; i < br.size(); i++) {
                                // Deterministic defenses only (jpeg, bits, median, blur); the seed is unused by them.
                                chains.get(c).apply(px[i], new java.util.Random(i)).toUnitFloats(q, i * per);
                            }
                            if (c == 0) {
                                count(surr.predict(q, shape, m), y, fooledSurr, 0);
                            }
                            for (int k = 0; k < tens.size(); k++) {
                                int[] one = {0};
                                count(tens.get(k).predict(q, shape, m), y, one, 0);
                                fooled[k * chains.size() + c] += one[0];
                            }
                        }
                    }
                    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "| %s | %s | %.1f%% |", r[0], filter,
                            100.0 * fooledSurr[0] / rows.size()));
                    for (int f : fooled) {
                        line.append(String.format(Locale.ROOT, " %.1f%% |", 100.0 * f / rows.size()));
                    }
                    line.append(String.format(Locale.ROOT, " %.0f |%n", (System.nanoTime() - t0) / 1e9));
                    System.out.print(line);
                    table.append(line);
                }
            }
            // Clean error of the targets, the floor that "success" includes.
            StringBuilder clean = new StringBuilder("| (clean images) | | |");
            for (Ensemble t : tens) {
                for (DefenseChain chain : chains) {
                    int wrong = 0;
                    for (int s = 0; s < rows.size(); s += 10) {
                        List<RgbImage> bi = imgs.subList(s, Math.min(rows.size(), s + 10)).stream()
                                .map(x -> chain.apply(x, new java.util.Random(0))).toList();
                        int[] y = rows.subList(s, s + bi.size()).stream().mapToInt(x -> x.trueLabel() - labelBase).toArray();
                        int[] c = {0};
                        count(t.predict(Fixtures.batch(bi), new long[] {bi.size(), 3, bi.get(0).height(), bi.get(0).width()}, m),
                                y, c, 0);
                        wrong += c[0];
                    }
                    clean.append(String.format(Locale.ROOT, " %.1f%% |", 100.0 * wrong / rows.size()));
                }
            }
            clean.append(" |\n");
            System.out.print(clean);
            table.append(clean);
        }
        BenchCommand.appendTable(out, table.toString());
        System.out.println("written to " + out);
    }

    private static void count(int[] pred, int[] y, int[] acc, int unused) {
        for (int i = 0; i < pred.length; i++) {
            acc[0] += pred[i] != y[i] ? 1 : 0;
        }
    }

    private static List<ModelBundle> bundles(List<Path> paths) throws Exception {
        List<ModelBundle> out = new ArrayList<>();
        for (Path p : paths) {
            out.add(Fixtures.bundle(p, 1.0));
        }
        return out;
    }

    private static String names(List<ModelBundle> b) {
        return String.join(" + ", b.stream().map(x -> x.card().name()).toList());
    }
}
