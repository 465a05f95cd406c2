package io.advspark.experiments;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.AttackEngine;
import io.advspark.attack.Kernels;
import io.advspark.attack.Parts;
import io.advspark.attack.Quantizer;
import io.advspark.attack.filter.PerturbationFilter;
import io.advspark.attack.loss.CrossEntropy;
import io.advspark.bench.BenchCommand;
import io.advspark.bench.BenchOptions;
import io.advspark.data.ManifestRow;
import io.advspark.data.RgbImage;
import io.advspark.model.Autograd;
import io.advspark.model.Ensemble;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.AttackConfig;
import io.advspark.testing.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Where a perturbation filter belongs (docs/configuration.md "Perturbation filters"): untargeted MI-FGSM on the
 * surrogates (white box), unfiltered, with the engine's filter, and with other places to put the
 * same low-pass, each scored on the float result and on the 8-bit image that would be written.
 * Run with {@code jobs/experiment-filter}; prints a markdown table and appends it to a file.
 *
 * <ul>
 *   <li>{@code engine}: {@link AttackEngine} as shipped: the image is {@code clip(x + F(z))} of a
 *       latent perturbation z, F applied once, the gradient taken through F and the clip;
 *   <li>{@code perstep}: the engine's rule before that fix, in this class's own loop:
 *       {@code delta <- F(clip(delta + alpha d))} after every step, so step s is filtered T - s
 *       times;
 *   <li>{@code renorm}: as {@code perstep} with the Gaussian renormalised at the border (divided by
 *       the filtered all-ones image), to measure what the zero padding's border loss costs;
 *   <li>{@code step}: each step is filtered, not the accumulated delta:
 *       {@code delta <- clip(delta + F(alpha d))};
 *   <li>{@code end}: unfiltered MI, the filter applied once to the final delta;
 *   <li>{@code latent}: as {@code engine} with a straight-through clip: MI on z with the gradient
 *       {@code F^T g} (F is symmetric), z kept in the eps-ball.
 * </ul>
 *
 * <p>Options ({@code --help} lists them with their defaults, which are jobs/experiment-filter's):
 * {@code --data --label-base --images --eps --steps --out --filters --modes --surrogates --threads}.
 */
@Command(name = "FilterExperiment",
        description = "Where a perturbation filter belongs: white-box MI-FGSM success with each filter applied by the"
                + " engine and at the other places one could; prints the table and appends it to --out (jobs/experiment-filter).")
public final class FilterExperiment extends BenchCommand {
    @Mixin
    BenchOptions.Data dataset = new BenchOptions.Data("cifar10-300", 0);

    @Option(names = "--images", paramLabel = "N", description = "the first N images of the dataset (attacked as one batch)")
    int limit = 50;

    @Option(names = "--eps", paramLabel = "E", description = "L-inf budget, in 0..255 pixel levels")
    double eps = 8;

    @Option(names = "--steps", paramLabel = "N", description = "attack steps (step size eps / steps)")
    int steps = 10;

    @Mixin
    BenchOptions.Table tableFile = new BenchOptions.Table(Path.of("docs/filter-experiment.md"));

    @Option(names = "--filters", paramLabel = "SPEC", split = ";",
            description = "perturbation filters, ';'-separated (none: unfiltered MI, engine mode only)")
    List<String> filterList = new ArrayList<>(List.of("none", "gaussian(sigma=0.5)", "gaussian(sigma=0.7)", "gaussian(sigma=1)",
            "gaussian(sigma=2)", "dct(keep=0.25)"));

    @Option(names = "--modes", paramLabel = "MODE", split = ",",
            description = "where the filter goes: engine, perstep, renorm (Gaussian only), step, end, latent (see the class doc)")
    List<String> modeList = new ArrayList<>(List.of("engine", "perstep", "renorm", "step", "end", "latent"));

    @Option(names = "--surrogates", paramLabel = "PT", split = ",", description = "the white-box ensemble's models")
    List<Path> models = new ArrayList<>(List.of(sharedModel("cifar10", "resnet20"), sharedModel("cifar10", "resnet32")));

    @Mixin
    BenchOptions.Torch torch = new BenchOptions.Torch();

    public static void main(String[] args) {
        BenchCommand.main(new FilterExperiment(), args);
    }

    @Override
    protected void run() throws Exception {
        Path data = dataset.dir;
        int labelBase = dataset.labelBase;
        Path out = tableFile.out;
        String[] filters = filterList.toArray(String[]::new);
        String[] modes = modeList.toArray(String[]::new);
        torch.start();
        List<ManifestRow> rows = Fixtures.manifest(data, labelBase, limit);
        List<RgbImage> imgs = Fixtures.images(data, rows);
        float[] clean = Fixtures.batch(imgs);
        int n = rows.size();
        long[] shape = {n, 3, imgs.get(0).height(), imgs.get(0).width()};
        int[] y = rows.stream().mapToInt(r -> r.trueLabel() - labelBase).toArray();
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                "%n%s, %d images, MI eps %s, %d steps, white box on %s%n%n"
                        + "| filter | mode | success float | success 8-bit | mean L2 (0..255) | mean Linf | levels changed |%n"
                        + "|---|---|---:|---:|---:|---:|---:|%n",
                data.getFileName(), n, eps, steps, models.stream().map(p -> p.getFileName().toString())
                        .collect(java.util.stream.Collectors.joining(","))));
        System.out.print(table);
        try (Ensemble ens = Ensemble.load(models.stream().map(p -> {
                    try {
                        return Fixtures.bundle(p, 1.0);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }).toList());
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            for (String filter : filters) {
                for (String mode : modes) {
                    if (filter.equals("none") && !mode.equals("engine")
                            || mode.equals("renorm") && !filter.startsWith("gaussian")) {
                        continue;
                    }
                    float[] adv = attack(mode, filter, clean, shape, y, eps, steps, ens, m);
                    String line = score(filter, mode, adv, clean, imgs, shape, y, eps, ens, m);
                    System.out.print(line);
                    table.append(line);
                }
            }
        }
        BenchCommand.appendTable(out, table.toString());
    }

    static float[] attack(String mode, String filter, float[] clean, long[] shape, int[] y, double eps, int steps,
            Ensemble ens, NDManager m) {
        if (mode.equals("engine")) {
            AttackConfig cfg = AttackConfig.builder().eps(eps).steps(steps).stepSize(eps / steps)
                    .update("mi(decay=1.0)").filter(filter).build();
            return new AttackEngine(cfg.toAttack(), ens).run(clean, shape, y, y, m, null);
        }
        PerturbationFilter pf = Parts.filter(filter);
        UnaryOperator<NDArray> f;
        if (mode.equals("renorm")) {
            float[] k = Kernels.gaussianPixels(((io.advspark.attack.filter.GaussianFilter) pf).sigma());
            f = d -> Kernels.depthwise(d, k).div(Kernels.depthwise(d.onesLike(), k));
        } else {
            f = d -> pf.apply(d, null);
        }
        float e = (float) (eps / 255.0);
        float alpha = (float) (eps / steps / 255.0);
        CrossEntropy ce = new CrossEntropy(1, 0);
        try (NDManager b = m.newSubManager()) {
            NDArray x0 = b.create(clean, new Shape(shape));
            NDArray lo = x0.sub(e);
            NDArray hi = x0.add(e);
            NDArray z = b.zeros(x0.getShape());
            NDArray mom = b.zeros(x0.getShape());
            for (int t = 0; t < steps; t++) {
                NDArray x = mode.equals("latent") ? box(x0.add(f.apply(z)), lo, hi) : box(x0.add(z), lo, hi);
                NDArray g = Autograd.gradient(x, leaf -> ce.of(ens.logits(leaf), y, y), b);
                if (mode.equals("latent")) {
                    g = f.apply(g); // F is symmetric (Gaussian, DCT projector): F^T g = F g
                }
                long rows = g.getShape().get(0);
                NDArray l1 = g.abs().reshape(rows, -1).mean(new int[] {1}, true).maximum(1e-12f).reshape(rows, 1, 1, 1);
                mom = mom.add(g.div(l1));
                NDArray d = mom.sign().mul(alpha);
                switch (mode) {
                    case "perstep", "renorm" -> {
                        NDArray next = box(x0.add(z).add(d), lo, hi);
                        z = box(x0.add(f.apply(next.sub(x0))), lo, hi).sub(x0);
                    }
                    case "step" -> z = box(x0.add(z).add(f.apply(d)), lo, hi).sub(x0);
                    case "end", "latent" -> z = z.add(d).clip(-e, e);
                    default -> throw new IllegalArgumentException(mode);
                }
            }
            NDArray x = mode.equals("end") || mode.equals("latent") ? box(x0.add(f.apply(z)), lo, hi) : box(x0.add(z), lo, hi);
            return x.toFloatArray();
        }
    }

    private static NDArray box(NDArray x, NDArray lo, NDArray hi) {
        return NDArrays.minimum(NDArrays.maximum(x, lo), hi).clip(0f, 1f);
    }

    static String score(String filter, String mode, float[] adv, float[] clean, List<RgbImage> imgs, long[] shape, int[] y,
            double eps, Ensemble ens, NDManager m) {
        int per = (int) (shape[1] * shape[2] * shape[3]);
        float[] q = new float[adv.length];
        double l2 = 0;
        double linf = 0;
        long changed = 0;
        for (int i = 0; i < imgs.size(); i++) {
            RgbImage qi = Quantizer.toPixels(adv, i * per, imgs.get(i), eps);
            qi.toUnitFloats(q, i * per);
            byte[] c = imgs.get(i).pixels();
            byte[] p = qi.pixels();
            double s = 0;
            int mx = 0;
            for (int j = 0; j < c.length; j++) {
                int dlt = (p[j] & 0xff) - (c[j] & 0xff);
                s += (double) dlt * dlt;
                mx = Math.max(mx, Math.abs(dlt));
                changed += dlt != 0 ? 1 : 0;
            }
            l2 += Math.sqrt(s);
            linf += mx;
        }
        int n = imgs.size();
        return String.format(Locale.ROOT, "| %s | %s | %.0f%% | %.0f%% | %.1f | %.2f | %.0f%% |%n", filter, mode,
                100.0 * fooled(ens.predict(adv, shape, m), y) / n, 100.0 * fooled(ens.predict(q, shape, m), y) / n,
                l2 / n, linf / n, 100.0 * changed / adv.length);
    }

    private static int fooled(int[] pred, int[] y) {
        int c = 0;
        for (int i = 0; i < y.length; i++) {
            c += pred[i] != y[i] ? 1 : 0;
        }
        return c;
    }
}
