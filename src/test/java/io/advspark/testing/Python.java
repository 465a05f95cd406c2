package io.advspark.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the independent PyTorch reference (src/test/python) under /usr/bin/python3. */
public final class Python {
    private Python() {}

    public static final Path REFERENCE = Path.of("src/test/python/reference_attack.py").toAbsolutePath();

    /** Runs the reference and returns its stdout; fails with its output if it exits non-zero. */
    public static String run(List<String> args, long timeoutSeconds) throws IOException, InterruptedException {
        return run(REFERENCE, args, timeoutSeconds);
    }

    /** Runs another reference script of src/test/python. */
    public static String run(Path script, List<String> args, long timeoutSeconds) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(script.toString());
        cmd.addAll(args);
        Path log = Path.of("target", "python-" + System.nanoTime() + ".log").toAbsolutePath();
        ProcessBuilder pb = Shared.pythonProcess(cmd).redirectError(log.toFile());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("reference timed out: " + cmd);
        }
        if (p.exitValue() != 0) {
            throw new IOException("reference failed (" + p.exitValue() + "): " + cmd + "\n" + out + "\n"
                    + java.nio.file.Files.readString(log));
        }
        return out;
    }
}
