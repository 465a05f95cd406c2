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
import io.advspark.model.Ensemble;
import io.advspark.model.ModelBundle;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.AttackConfig;
import io.advspark.testing.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Dropout inside the surrogate (Ghost Networks) versus the same surrogate without it: craft with
 * MI and MI-DI on one scripted surrogate with dropout sites, for several dropout rates, and count
 * untargeted success of the written 8-bit images on held-out targets. Run with
 * {@code jobs/experiment-dropout}; prints a markdown table and appends it to a file.
 *
 * <p>Options ({@code --help} lists them with their defaults, which are jobs/experiment-dropout's):
 * {@code --data --label-base --images --eps --steps --out --surrogate --targets --rates --threads}.
 */
@Command(name = "DropoutExperiment",
        description = "Dropout inside the surrogate (Ghost Networks): MI and MI-DI at several dropout rates, untargeted"
                + " success on held-out targets; prints the table and appends it to --out (jobs/experiment-dropout).")
public final class DropoutExperiment extends BenchCommand {
    @Mixin
    BenchOptions.Data dataset = new BenchOptions.Data("cifar10-300", 0);

    @Option(names = "--images", paramLabel = "N", description = "the first N images of the dataset")
    int limit = 300;

    @Option(names = "--eps", paramLabel = "E", description = "L-inf budget, in 0..255 pixel levels")
    double eps = 8;

    @Option(names = "--steps", paramLabel = "N", description = "attack steps (step size eps / steps)")
    int steps = 10;

    @Mixin
    BenchOptions.Table tableFile = new BenchOptions.Table(Path.of("docs/dropout-experiment.md"));

    @Option(names = "--surrogate", paramLabel = "PT",
            description = "the scripted surrogate with dropout sites (tools/ghost_model.py, as jobs/experiment-dropout makes it)")
    Path surrogatePath = Path.of("target/ghost/resnet20_ghost.pt");

    @Option(names = "--targets", paramLabel = "PT", split = ",", description = "held-out targets")
    List<Path> targetPaths = new ArrayList<>(List.of(sharedModel("cifar10", "resnet32"), sharedModel("cifar10", "resnet56"),
            sharedModel("cifar10", "resnet4b"), sharedModel("cifar10", "cnn_a_mix")));

    @Option(names = "--rates", paramLabel = "P", split = ",", description = "dropout rates; 0 is the surrogate without dropout")
    List<String> rates = new ArrayList<>(List.of("0", "0.006", "0.02", "0.05", "0.1", "0.2"));

    @Mixin
    BenchOptions.Torch torch = new BenchOptions.Torch();

    public static void main(String[] args) {
        BenchCommand.main(new DropoutExperiment(), args);
    }

    @Override
    protected void run() throws Exception {
        Path data = dataset.dir;
        int labelBase = dataset.labelBase;
        Path out = tableFile.out;
        ModelBundle surrogate = Fixtures.bundle(surrogatePath, 1.0);
        List<ModelBundle> targets = new ArrayList<>();
        for (Path p : targetPaths) {
            targets.add(Fixtures.bundle(p, 1.0));
        }
        // libtorch threads (--threads, default 2): on a loaded machine 1 is much faster.
        torch.start();

        List<ManifestRow> rows = Fixtures.manifest(data, labelBase, limit);
        List<RgbImage> imgs = Fixtures.images(data, rows);
        StringBuilder table = new StringBuilder();
        table.append(String.format(Locale.ROOT, "%n%s, %d images, eps %s, %d steps, surrogate %s, untargeted success%n%n",
                data.getFileName(), rows.size(), eps, steps, surrogate.card().name()));
        table.append("| recipe | augment | white-box (surrogate, eval mode) |");
        targets.forEach(t -> table.append(" ").append(t.card().name()).append(" |"));
        table.append(" mean over targets | seconds |\n|---|---|---:|");
        targets.forEach(t -> table.append("---:|"));
        table.append("---:|---:|\n");
        System.out.print(table);
        try (Ensemble surr = Ensemble.load(List.of(surrogate)); NDManager m = TorchRuntime.newManager(Device.cpu())) {
            List<Ensemble> tens = new ArrayList<>();
            for (ModelBundle t : targets) {
                tens.add(Ensemble.load(List.of(t)));
            }
            for (String recipe : new String[] {"MI", "MI-DI"}) {
                for (String rate : rates) {
                    List<String> augment = rate.equals("0") ? List.of() : List.of("dropout(p=" + rate + ")");
                    List<String> inputs = recipe.equals("MI") ? List.of() : List.of("di(p=0.5, resize=1.1)");
                    AttackConfig cfg = AttackConfig.builder().eps(eps).steps(steps).stepSize(eps / steps)
                            .update("mi(decay=1.0)").inputs(inputs).augments(augment).build();
                    Attack attack = cfg.toAttack();
                    AttackEngine engine = new AttackEngine(attack, surr);
                    long t0 = System.nanoTime();
                    int fooledSurr = 0;
                    int[] fooled = new int[targets.size()];
                    int batch = 10;
                    for (int s = 0; s < rows.size(); s += batch) {
                        List<ManifestRow> br = rows.subList(s, Math.min(rows.size(), s + batch));
                        List<RgbImage> bi = imgs.subList(s, s + br.size());
                        int per = bi.get(0).pixels().length;
                        long[] shape = {br.size(), 3, bi.get(0).height(), bi.get(0).width()};
                        int[] y = br.stream().mapToInt(x -> x.trueLabel() - labelBase).toArray();
                        long[] seeds = br.stream().mapToLong(x -> Draws.seedFor("dropout", attack.spec(), x.imageId())).toArray();
                        float[] adv = engine.run(Fixtures.batch(bi), shape, y, y, new Draws(seeds), m, null);
                        float[] q = new float[adv.length];
                        for (int i = 0; i < br.size(); i++) {
                            Quantizer.toPixels(adv, i * per, bi.get(i), eps).toUnitFloats(q, i * per);
                        }
                        fooledSurr += wrong(surr.predict(q, shape, m), y);
                        for (int k = 0; k < tens.size(); k++) {
                            fooled[k] += wrong(tens.get(k).predict(q, shape, m), y);
                        }
                    }
                    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "| %s | %s | %.1f%% |", recipe,
                            augment.isEmpty() ? "none" : augment.get(0), 100.0 * fooledSurr / rows.size()));
                    double sum = 0;
                    for (int f : fooled) {
                        line.append(String.format(Locale.ROOT, " %.1f%% |", 100.0 * f / rows.size()));
                        sum += 100.0 * f / rows.size();
                    }
                    line.append(String.format(Locale.ROOT, " %.1f%% | %.0f |%n", sum / fooled.length,
                            (System.nanoTime() - t0) / 1e9));
                    System.out.print(line);
                    table.append(line);
                }
            }
            StringBuilder clean = new StringBuilder("| (clean images) | | |");
            double sum = 0;
            for (Ensemble t : tens) {
                int w = 0;
                for (int s = 0; s < rows.size(); s += 10) {
                    List<RgbImage> bi = imgs.subList(s, Math.min(rows.size(), s + 10));
                    int[] y = rows.subList(s, s + bi.size()).stream().mapToInt(x -> x.trueLabel() - labelBase).toArray();
                    w += wrong(t.predict(Fixtures.batch(bi), new long[] {bi.size(), 3, bi.get(0).height(), bi.get(0).width()}, m), y);
                }
                clean.append(String.format(Locale.ROOT, " %.1f%% |", 100.0 * w / rows.size()));
                sum += 100.0 * w / rows.size();
            }
            clean.append(String.format(Locale.ROOT, " %.1f%% | |%n", sum / tens.size()));
            System.out.print(clean);
            table.append(clean);
            tens.forEach(Ensemble::close);
        }
        BenchCommand.appendTable(out, table.toString());
        System.out.println("written to " + out);
    }

    private static int wrong(int[] pred, int[] y) {
        int n = 0;
        for (int i = 0; i < pred.length; i++) {
            n += pred[i] != y[i] ? 1 : 0;
        }
        return n;
    }
}
