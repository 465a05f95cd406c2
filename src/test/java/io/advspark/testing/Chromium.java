package io.advspark.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Headless Chromium for tests that look at a rendered page. Where it is absent a test is skipped
 * with a message, except under CI ({@code CI=true}, whose .ci/run installs it), where that fails.
 */
public final class Chromium {
    private Chromium() {}

    /** The browser's executable: {@code chromium} (Debian), or {@code chromium-browser}, on the PATH or in /usr/bin. */
    public static Path executable() {
        List<Path> candidates = new ArrayList<>();
        String path = System.getenv("PATH");
        for (String dir : (path == null ? "/usr/bin" : path + ":/usr/bin").split(":")) {
            if (!dir.isEmpty()) {
                candidates.add(Path.of(dir, "chromium"));
                candidates.add(Path.of(dir, "chromium-browser"));
            }
        }
        for (Path p : candidates) {
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        String msg = "chromium not found (apt-get install chromium)";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.fail(msg + "; CI=true requires it");
        }
        Assumptions.abort("skipped: " + msg);
        throw new IllegalStateException("unreachable");
    }

    /** A screenshot of {@code html} at {@code width} x {@code height} CSS pixels, written to {@code png}. */
    public static void screenshot(Path html, Path png, int width, int height) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory("advspark-chromium-");
        try {
            Files.deleteIfExists(png);
            List<String> cmd = List.of(executable().toString(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", "--no-first-run", "--disable-extensions", "--user-data-dir=" + profile,
                    "--window-size=" + width + "," + height, "--screenshot=" + png.toAbsolutePath(),
                    html.toAbsolutePath().toUri().toString());
            Path log = profile.resolve("chromium.log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(180, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                Assertions.fail("chromium did not finish a screenshot of " + html + " in 180 s");
            }
            if (!Files.isRegularFile(png)) {
                Assertions.fail("chromium wrote no screenshot of " + html + " (exit " + p.exitValue() + "):\n"
                        + Files.readString(log));
            }
        } finally {
            try (var s = Files.walk(profile)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
