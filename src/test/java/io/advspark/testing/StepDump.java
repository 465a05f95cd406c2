package io.advspark.testing;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Dumps every step of a run in the format src/test/python/reference_attack.py reads in its
 * {@code step} mode: meta.json plus raw little-endian float32 arrays.
 */
public final class StepDump implements StepObserver {
    private final Path dir;

    public StepDump(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
    }

    public void meta(List<Path> models, List<Double> weights, double eps, double step, double decay, double wu,
            double wt, long[] shape, int[] labels0, int[] targets0, int steps, float[] clean) throws IOException {
        StringBuilder m = new StringBuilder("{\"models\": [");
        for (int i = 0; i < models.size(); i++) {
            Path p = models.get(i).toAbsolutePath();
            String card = p.toString().replaceFirst("\\.pt$", ".json");
            m.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT,
                    "{\"path\": \"%s\", \"card\": \"%s\", \"weight\": %s}", p, card, weights.get(i)));
        }
        m.append(String.format(Locale.ROOT,
                "], \"epsPixels\": %s, \"stepSizePixels\": %s, \"decay\": %s, \"untargetedWeight\": %s,"
                        + " \"targetedWeight\": %s, \"shape\": [%s], \"labels0\": [%s], \"targets0\": [%s], \"steps\": %d}",
                eps, step, decay, wu, wt,
                java.util.Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", ")),
                java.util.Arrays.stream(labels0).mapToObj(Integer::toString).collect(Collectors.joining(", ")),
                java.util.Arrays.stream(targets0).mapToObj(Integer::toString).collect(Collectors.joining(", ")),
                steps));
        Files.writeString(dir.resolve("meta.json"), m.toString());
        write("clean.f32", clean);
    }

    @Override
    public void onStep(int step, NDArray x, NDArray momentum, NDArray grad, NDArray nextX, NDArray nextMomentum) {
        try {
            write("step_" + step + "_x.f32", x.toFloatArray());
            // Stateless rules have no momentum: the reference reads zeros.
            write("step_" + step + "_m.f32", momentum == null ? new float[(int) x.size()] : momentum.toFloatArray());
            write("step_" + step + "_grad.f32", grad.toFloatArray());
            write("step_" + step + "_next_x.f32", nextX.toFloatArray());
            write("step_" + step + "_next_m.f32",
                    nextMomentum == null ? new float[(int) x.size()] : nextMomentum.toFloatArray());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void onVariance(int step, NDArray before, NDArray after) {
        try {
            if (before != null) {
                write("step_" + step + "_v.f32", before.toFloatArray());
            }
            write("step_" + step + "_next_v.f32", after.toFloatArray());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void onState(int step, String name, NDArray before, NDArray after) {
        try {
            if (before != null) {
                write("step_" + step + "_" + name + ".f32", before.toFloatArray());
            }
            write("step_" + step + "_next_" + name + ".f32", after.toFloatArray());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Adds fields to meta.json (the parts and seeds of the run). */
    public void extraMeta(String json) throws IOException {
        Path p = dir.resolve("meta.json");
        String m = Files.readString(p).trim();
        Files.writeString(p, m.substring(0, m.length() - 1) + ", " + json + "}");
    }

    private void write(String name, float[] a) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(a.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(a);
        Files.write(dir.resolve(name), b.array());
    }
}
