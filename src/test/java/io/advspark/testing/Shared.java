package io.advspark.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

    /**
     * A process of the reference Python with a pinned numeric environment. Debian's PyTorch calls
     * BLAS through {@code libblas.so.3}, which update-alternatives points at whichever BLAS was
     * installed last: installing Jupyter's packages pulls OpenBLAS and moved the reference's MobileNet
     * gradients by 8e-5 (relative), far outside the parity criteria. Debian's default, the netlib
     * reference BLAS (deterministic and thread-count independent), is put first on the library path
     * when present. PYTHONPATH is cleared so that only the system packages are used.
     */
    public static ProcessBuilder pythonProcess(List<String> args) {
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add(python().toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("PYTHONPATH");
        List<String> dirs = new java.util.ArrayList<>();
        for (String d : List.of("/usr/lib/x86_64-linux-gnu/blas", "/usr/lib/x86_64-linux-gnu/lapack",
                "/usr/lib/aarch64-linux-gnu/blas", "/usr/lib/aarch64-linux-gnu/lapack")) {
            if (Files.isRegularFile(Path.of(d, d.endsWith("blas") ? "libblas.so.3" : "liblapack.so.3"))) {
                dirs.add(d);
            }
        }
        String old = pb.environment().get("LD_LIBRARY_PATH");
        if (!dirs.isEmpty()) {
            pb.environment().put("LD_LIBRARY_PATH", String.join(":", dirs) + (old == null || old.isEmpty() ? "" : ":" + old));
        }
        return pb;
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
