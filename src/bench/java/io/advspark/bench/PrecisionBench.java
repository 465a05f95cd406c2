package io.advspark.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.advspark.model.Autograd;
import io.advspark.model.Classifier;
import io.advspark.model.ModelBundle;
import io.advspark.model.TorchRuntime;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * fp32 against bf16, one model at a time, in libtorch through advspark's {@link Classifier}: for
 * each pair (a float32 TorchScript and its {@code --dtype bf16} export) and each batch size, the
 * median forward+backward time to the input of each, alternating fp32 and bf16 repetitions so
 * drift hits both, and the agreement of the two input gradients on the same seeded input (cosine,
 * and the share of non-zero fp32 entries whose sign the bf16 gradient keeps: what a sign-gradient
 * attack step uses). The loss is each row's log-softmax at a seeded class, as an attack's CE.
 * Prints one JSON line per (model, batch); {@code jobs/bench-precision} runs it per thread count and
 * once more under {@code ONEDNN_VERBOSE} to list the kernels oneDNN picked.
 */
@Command(name = "PrecisionBench",
        description = "fp32 vs bf16 forward+backward per model and batch, and the input gradients' agreement;"
                + " one JSON line each on stdout (jobs/bench-precision).")
public final class PrecisionBench extends BenchCommand {
    @Mixin
    BenchOptions.Torch torch = new BenchOptions.Torch();

    @Option(names = "--pair", paramLabel = "FP32.pt:BF16.pt", required = true,
            description = "a float32 TorchScript and its bf16 export (each with its card beside it); repeatable")
    List<String> pairs = new ArrayList<>();

    @Option(names = "--batches", paramLabel = "N", split = ",", description = "batch sizes")
    List<Integer> batches = new ArrayList<>(List.of(8, 32));

    @Option(names = "--reps", paramLabel = "N", description = "timed repetitions of each precision (after one warm-up each)")
    int reps = 5;

    @Option(names = "--warmups", paramLabel = "N", description = "untimed repetitions first (the graph executor profiles its first runs)")
    int warmups = 2;

    public static void main(String[] args) {
        BenchCommand.main(new PrecisionBench(), args);
    }

    @Override
    protected void run() throws Exception {
        torch.start();
        for (String pair : pairs) {
            int colon = pair.lastIndexOf(':');
            if (colon < 1) {
                throw new IllegalArgumentException("--pair " + pair + ": expected FP32.pt:BF16.pt");
            }
            ModelBundle fp32 = io.advspark.testing.Fixtures.bundle(Path.of(pair.substring(0, colon)).toAbsolutePath(), 1.0);
            ModelBundle bf16 = io.advspark.testing.Fixtures.bundle(Path.of(pair.substring(colon + 1)).toAbsolutePath(), 1.0);
            try (Classifier a = Classifier.load(fp32); Classifier b = Classifier.load(bf16);
                    NDManager m = TorchRuntime.newManager(Device.cpu())) {
                for (int batch : batches) {
                    measure(a, b, batch, m);
                }
            }
        }
    }

    private void measure(Classifier a, Classifier b, int batch, NDManager m) {
        m.getEngine().setRandomSeed(batch);
        int h = a.card().inputHeight();
        int w = a.card().inputWidth();
        NDArray x = m.randomUniform(-1f, 1f, new Shape(batch, 3, h, w));
        java.util.Random rnd = new java.util.Random(batch);
        float[] onehot = new float[batch * a.card().numClasses()];
        for (int r = 0; r < batch; r++) {
            onehot[r * a.card().numClasses() + rnd.nextInt(a.card().numClasses())] = 1f;
        }
        NDArray target = m.create(onehot, new Shape(batch, a.card().numClasses()));
        double[] ta = new double[reps];
        double[] tb = new double[reps];
        float[] ga = null;
        float[] gb = null;
        for (int r = -warmups; r < reps; r++) {
            long t0 = System.nanoTime();
            float[] g1 = gradient(a, x, target, m);
            long t1 = System.nanoTime();
            float[] g2 = gradient(b, x, target, m);
            long t2 = System.nanoTime();
            if (r >= 0) {
                ta[r] = (t1 - t0) / 1e6;
                tb[r] = (t2 - t1) / 1e6;
            }
            ga = g1;
            gb = g2;
        }
        double dot = 0;
        double na = 0;
        double nb = 0;
        long nonzero = 0;
        long same = 0;
        for (int i = 0; i < ga.length; i++) {
            dot += (double) ga[i] * gb[i];
            na += (double) ga[i] * ga[i];
            nb += (double) gb[i] * gb[i];
            if (ga[i] != 0) {
                nonzero++;
                same += Math.signum(ga[i]) == Math.signum(gb[i]) ? 1 : 0;
            }
        }
        double fp32 = KernelBench.median(ta);
        double bf16 = KernelBench.median(tb);
        System.out.printf(Locale.ROOT, "{\"model\": \"%s\", \"input\": \"%dx%d\", \"batch\": %d, \"threads\": %d,"
                        + " \"fp32_ms\": %.3f, \"bf16_ms\": %.3f, \"speedup\": %.3f, \"grad_cosine\": %.5f,"
                        + " \"sign_agreement\": %.5f}%n",
                a.card().name(), h, w, batch, torch.threads, fp32, bf16, fp32 / bf16, dot / Math.sqrt(na * nb),
                nonzero == 0 ? Double.NaN : (double) same / nonzero);
    }

    /** The input gradient of the rows' log-softmax at their seeded classes, as float32. */
    private static float[] gradient(Classifier c, NDArray x, NDArray target, NDManager m) {
        try (NDManager s = m.newSubManager()) {
            NDArray g = Autograd.gradient(x, v -> c.rawForward(v).logSoftmax(1).mul(target).sum(), s);
            return g.getDataType() == DataType.FLOAT32 ? g.toFloatArray() : g.toType(DataType.FLOAT32, false).toFloatArray();
        }
    }
}
