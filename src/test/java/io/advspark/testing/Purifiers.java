package io.advspark.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The test purifiers, built at test time by {@code tools/make_denoiser.py} into
 * {@code target/purifiers} with /usr/bin/python3 (skipped with a message where Python with torch
 * is missing, a failure under CI=true: {@link Shared#python()}). Built once per JVM.
 */
public final class Purifiers {
    private Purifiers() {}

    private static Path dir;

    /** The folder holding denoiser.pt, broken_shape.pt and broken_range.pt. */
    public static synchronized Path dir() throws Exception {
        if (dir == null) {
            Shared.python();
            Path out = Path.of("target", "purifiers").toAbsolutePath();
            Process p = Shared.pythonProcess(List.of(Path.of("tools/make_denoiser.py").toAbsolutePath().toString(),
                    "--out-dir", out.toString())).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (p.waitFor() != 0 || !Files.exists(out.resolve("denoiser.pt"))) {
                throw new IllegalStateException("tools/make_denoiser.py failed:\n" + log);
            }
            dir = out;
        }
        return dir;
    }

    public static Path denoiser() throws Exception {
        return dir().resolve("denoiser.pt");
    }

    public static Path brokenShape() throws Exception {
        return dir().resolve("broken_shape.pt");
    }

    public static Path brokenRange() throws Exception {
        return dir().resolve("broken_range.pt");
    }
}
