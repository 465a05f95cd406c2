package io.advspark.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.advspark.model.Autograd;
import io.advspark.model.Classifier;
import io.advspark.model.ModelBundle;
import io.advspark.model.TorchRuntime;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * libtorch alone, without advspark around it: times one TorchScript model's forward (no grad) and
 * forward+backward to the input, each a single JNI call into the graph executor, on a random
 * batch at the card's input size. {@code src/test/python/kernel_bench.py} does the same in
 * PyTorch; {@code jobs/bench --kernels} runs both and prints the ratio. It separates the speed of
 * the libtorch build (2.7.1 here, 1.13 in the reference) from advspark's own overhead.
 *
 * <p>It also times the benchmark round's whole gradient step (resize, normalisation, every model,
 * logit ensemble, CE, backward to the 299x299 input) on the first BATCH images of a dataset, and
 * can record libtorch's profiler trace of those steps (Chrome trace JSON) for a per-op comparison.
 *
 * <p>Usage: {@code KernelBench [--threads N] [--batch N] [--reps N] [--data DIR] [--label-base B]
 * [--trace FILE] [--models A.pt,B.pt]} ({@code --help} lists them with their defaults); prints one
 * JSON line per model and one for the ensemble step.
 */
@Command(name = "KernelBench",
        description = "libtorch alone: TorchScript forward and forward+backward of each model, and the round's ensemble"
                + " gradient step; one JSON line each on stdout (jobs/bench --kernels).")
public final class KernelBench extends BenchCommand {
    @Mixin
    BenchOptions.Torch torch = new BenchOptions.Torch();

    @Option(names = "--batch", paramLabel = "N", description = "batch size: random inputs per model, first N images for the step")
    int batch = 10;

    @Option(names = "--reps", paramLabel = "N", description = "timed repetitions (after two warm-up ones); the median is printed")
    int reps = 20;

    @Mixin
    BenchOptions.Data data = new BenchOptions.Data("nips17-dev-300", 1);

    @Option(names = "--trace", paramLabel = "FILE",
            description = "also record libtorch's profiler trace of the ensemble steps here (Chrome trace JSON); none by default")
    Path trace;

    @Option(names = "--models", paramLabel = "PT", split = ",", description = "TorchScript models (each with its card)")
    List<Path> models = new ArrayList<>(List.of(sharedModel("imagenet", "mobilenet_v1_0.25_128"),
            sharedModel("imagenet", "mobilenet_v1_0.5_160")));

    public static void main(String[] args) {
        BenchCommand.main(new KernelBench(), args);
    }

    @Override
    protected void run() throws Exception {
        Path data = this.data.dir;
        int labelBase = this.data.labelBase;
        String trace = this.trace == null ? "-" : this.trace.toString();
        String[] models = this.models.stream().map(Path::toString).toArray(String[]::new);
        torch.start();
        for (String file : models) {
            ModelBundle bundle = io.advspark.testing.Fixtures.bundle(Path.of(file).toAbsolutePath(), 1.0);
            try (Classifier c = Classifier.load(bundle); NDManager m = TorchRuntime.newManager(Device.cpu())) {
                m.getEngine().setRandomSeed(0);
                NDArray x = m.randomUniform(-1f, 1f, new Shape(batch, 3, c.card().inputHeight(), c.card().inputWidth()));
                double[] fwd = new double[reps];
                double[] bwd = new double[reps];
                for (int r = -2; r < reps; r++) { // two warm-up rounds: the graph executor profiles first
                    long t0 = System.nanoTime();
                    try (NDManager s = m.newSubManager()) {
                        Autograd.noGrad(() -> c.rawForward(x)).attach(s);
                    }
                    long t1 = System.nanoTime();
                    try (NDManager s = m.newSubManager()) {
                        Autograd.gradient(x, v -> c.rawForward(v).sum(), s);
                    }
                    long t2 = System.nanoTime();
                    if (r >= 0) {
                        fwd[r] = (t1 - t0) / 1e6;
                        bwd[r] = (t2 - t1) / 1e6;
                    }
                }
                System.out.printf(Locale.ROOT, "{\"model\": \"%s\", \"forward_ms\": %.3f, \"forward_backward_ms\": %.3f}%n",
                        c.card().name(), median(fwd), median(bwd));
            }
        }
        step(batch, reps, data, labelBase, trace, models);
    }

    private static void step(int batch, int reps, Path data, int labelBase, String trace, String[] models) throws Exception {
        var rows = io.advspark.testing.Fixtures.manifest(data, labelBase, batch);
        float[] clean = io.advspark.testing.Fixtures.batch(io.advspark.testing.Fixtures.images(data, rows));
        int[] y = rows.stream().mapToInt(r -> r.trueLabel() - labelBase).toArray();
        java.util.List<ModelBundle> bundles = new java.util.ArrayList<>();
        for (String f : models) {
            bundles.add(io.advspark.testing.Fixtures.bundle(Path.of(f).toAbsolutePath(), 1.0));
        }
        io.advspark.attack.loss.CrossEntropy ce = new io.advspark.attack.loss.CrossEntropy(1, 0);
        try (io.advspark.model.Ensemble ens = io.advspark.model.Ensemble.load(bundles);
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            var img = io.advspark.testing.Fixtures.images(data, rows).get(0);
            NDArray x = m.create(clean, new Shape(rows.size(), 3, img.height(), img.width()));
            double[] t = new double[reps];
            for (int r = -2; r < reps; r++) {
                long t0 = System.nanoTime();
                try (NDManager s = m.newSubManager()) {
                    Autograd.gradient(x, v -> ce.of(ens.logits(v), y, y), s);
                }
                if (r >= 0) {
                    t[r] = (System.nanoTime() - t0) / 1e6;
                }
            }
            if (!trace.equals("-")) { // separate steps: the profiler's own cost stays out of the timing
                ai.djl.pytorch.jni.JniUtils.startProfile(false, false, false);
                for (int r = 0; r < reps; r++) {
                    try (NDManager s = m.newSubManager()) {
                        Autograd.gradient(x, v -> ce.of(ens.logits(v), y, y), s);
                    }
                }
                ai.djl.pytorch.jni.JniUtils.stopProfile(trace);
            }
            System.out.printf(Locale.ROOT, "{\"model\": \"ensemble step\", \"forward_backward_ms\": %.3f}%n", median(t));
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
