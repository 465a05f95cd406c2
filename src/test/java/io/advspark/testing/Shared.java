package io.advspark.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Locates the workplace's shared data and models ({@code ../shared} beside the clone, or
 * {@code $ADVSPARK_SHARED}). Where it is absent a test is skipped with a clear message, except
 * under CI ({@code CI=true}), where its absence is a failure.
 */
public final class Shared {
    private Shared() {}

    public static Path root() {
        String env = System.getenv("ADVSPARK_SHARED");
        Path p = env != null ? Path.of(env) : Path.of("..", "shared");
        p = p.toAbsolutePath().normalize();
        if (!Files.isDirectory(p.resolve("data")) || !Files.isDirectory(p.resolve("models"))) {
            String msg = "shared data and models not found at " + p
                    + " (set ADVSPARK_SHARED or place 'shared' beside the clone)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail(msg + "; CI=true requires them");
            }
            Assumptions.abort("skipped: " + msg);
        }
        return p;
    }

    public static Path nips17() {
        return root().resolve("data/nips17-dev-300");
    }

    public static Path cifar10() {
        return root().resolve("data/cifar10-300");
    }

    public static Path imagenetModel(String name) {
        return root().resolve("models/imagenet/" + name + ".pt");
    }

    public static Path cifarModel(String name) {
        return root().resolve("models/cifar10/" + name + ".pt");
    }

    /** The system Python with PyTorch, used only as an independent reference. */
    public static Path python() {
        Path py = Path.of("/usr/bin/python3");
        boolean ok = false;
        try {
            Process p = new ProcessBuilder(py.toString(), "-c", "import torch").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            ok = p.waitFor() == 0;
        } catch (Exception e) {
            ok = false;
        }
        if (!ok) {
            String msg = "/usr/bin/python3 with torch not available (apt-get install python3-torch)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail(msg + "; CI=true requires it");
            }
            Assumptions.abort("skipped: " + msg);
        }
        return py;
    }
}
