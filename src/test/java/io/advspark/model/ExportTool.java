package io.advspark.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.advspark.testing.Shared;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the repository's Python tools (the exporter, the references) from a test, as a user would. */
public final class ExportTool {
    private ExportTool() {}

    /** The shared CIFAR surrogates' sources (cifar_archs.py, *.pth); skips or fails as {@link Shared#root()}. */
    public static Path cifarSrc() {
        return Shared.root().resolve("models/cifar10/src");
    }

    /** Runs {@code /usr/bin/python3 args...} from the repository root; returns its output, failing on a non-zero exit. */
    public static String python(List<String> args) throws Exception {
        Process p = Shared.pythonProcess(args).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(600, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + args);
        }
        assertEquals(0, p.exitValue(), args + "\n" + out);
        return out;
    }

    /**
     * Exports shared CIFAR model {@code model} (resnet20, resnet32, ...) from its Python source into
     * {@code dir} as {@code name}.pt/.json with the extra exporter arguments; returns the .pt path.
     */
    public static Path exportCifar(Path dir, String name, String model, String constructor, String... extra) throws Exception {
        Path src = cifarSrc();
        List<String> args = new ArrayList<>(List.of("tools/export_model.py", "--source", "python", "--module",
                src.resolve("cifar_archs.py").toString(), "--constructor", constructor, "--weights",
                src.resolve(model + ".pth").toString(), "--input-size", "32", "--dataset", "cifar10", "--out",
                dir.toString(), "--name", name, "--threads", "1"));
        args.addAll(List.of(extra));
        python(args);
        return dir.resolve(name + ".pt");
    }

    /** Exports torchvision {@code arch} with random weights (seed 0) at {@code size}; returns the .pt path. */
    public static Path exportTorchvision(Path dir, String name, String arch, int size, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("tools/export_model.py", "--source", "torchvision", "--arch", arch,
                "--weights", "random", "--seed", "0", "--input-size", String.valueOf(size), "--out", dir.toString(),
                "--name", name, "--threads", "1"));
        args.addAll(List.of(extra));
        python(args);
        return dir.resolve(name + ".pt");
    }

    public static ModelSource source(Path pt) {
        return new ModelSource(pt.toUri().toString(), pt.toUri().toString().replaceFirst("\\.pt$", ".json"), 1.0, true);
    }
}
