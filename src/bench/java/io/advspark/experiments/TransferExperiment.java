package io.advspark.experiments;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.advspark.attack.Attack;
import io.advspark.attack.AttackEngine;
import io.advspark.attack.Draws;
import io.advspark.attack.Quantizer;
import io.advspark.config.AttackConfig;
import io.advspark.data.ManifestRow;
import io.advspark.data.RgbImage;
import io.advspark.defense.DefenseChain;
import io.advspark.model.Ensemble;
import io.advspark.model.ModelBundle;
import io.advspark.model.TorchRuntime;
import io.advspark.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The transfer experiment of the catalogue: craft on surrogates, count untargeted success on
 * held-out targets, for MI, MI-DI, MI-DI-TI, MI-DI-TI-SI, MI-DI-TI-SI-Admix, each with and
 * without a Gaussian perturbation filter. Scored on the 8-bit images that would be written.
 * Run with {@code jobs/experiment-transfer}; prints a markdown table and appends it to a file.
 *
 * <p>Arguments: data-dir label-base limit eps steps ti-size filter-sigma out-file surrogates(,)
 * targets(,)
 */
public final class TransferExperiment {
    public static void main(String[] a) throws Exception {
        Path data = Path.of(a[0]);
        int labelBase = Integer.parseInt(a[1]);
        int limit = Integer.parseInt(a[2]);
        double eps = Double.parseDouble(a[3]);
        int steps = Integer.parseInt(a[4]);
        int tiSize = Integer.parseInt(a[5]);
        String sigma = a[6];
        Path out = Path.of(a[7]);
        List<ModelBundle> surrogates = bundles(a[8]);
        List<ModelBundle> targets = bundles(a[9]);
        TorchRuntime.start(Integer.getInteger("advspark.threads", 2));
        // -Dadvspark.defenses="jpeg(75);bits(4)" also scores every target behind each chain.
        List<DefenseChain> chains = new ArrayList<>(List.of(DefenseChain.NONE));
        for (String c : System.getProperty("advspark.defenses", "").split(";")) {
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
        try (Ensemble surr = Ensemble.load(surrogates); NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            List<Ensemble> tens = new ArrayList<>();
            for (ModelBundle t : targets) {
                tens.add(Ensemble.load(List.of(t)));
            }
            // -Dadvspark.filters=none|gaussian|both and -Dadvspark.recipes=MI,MI-DI,... run a subset.
            String filters = System.getProperty("advspark.filters", "both");
            java.util.Set<String> only = System.getProperty("advspark.recipes") == null ? null
                    : java.util.Set.of(System.getProperty("advspark.recipes").split(","));
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
                    AttackConfig cfg = new AttackConfig(eps, steps, eps / steps, 1.0, AttackConfig.Objective.UNTARGETED,
                            1, 0, "mi(decay=1.0)", inputs, grads, "", "zeros", filter, "logits", 1);
                    Attack attack = Attack.fromConfig(cfg);
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
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, table.toString(), java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        System.out.println("written to " + out);
    }

    private static void count(int[] pred, int[] y, int[] acc, int unused) {
        for (int i = 0; i < pred.length; i++) {
            acc[0] += pred[i] != y[i] ? 1 : 0;
        }
    }

    private static List<ModelBundle> bundles(String list) throws Exception {
        List<ModelBundle> out = new ArrayList<>();
        for (String p : list.split(",")) {
            out.add(Fixtures.bundle(Path.of(p), 1.0));
        }
        return out;
    }

    private static String names(List<ModelBundle> b) {
        return String.join(" + ", b.stream().map(x -> x.card().name()).toList());
    }
}
