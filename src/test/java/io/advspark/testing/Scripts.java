package io.advspark.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a user-facing script ({@code jobs/advspark}, {@code jobs/submit-*}, {@code notebooks/run-headless},
 * ...) from the project root to its end, as the integration tests do.
 *
 * <p>The output goes to a temporary file rather than a pipe, so that the timeout holds even when
 * the script hangs without writing (reading a pipe to its end would block past any timeout); on
 * timeout the whole process tree is killed, so that no JVM outlives the test. SPARK_HOME is
 * removed: the launcher then uses the build's own Spark jars, whatever the machine has installed.
 */
public final class Scripts {

    /** A finished script: its exit code and its output (stdout and stderr interleaved). */
    public record Result(int exit, String output) {
    }

    private Scripts() {
    }

    /** Runs {@code cmd} with {@code env} added; prints and returns its output; asserts its exit code. */
    public static String run(List<String> cmd, Map<String, String> env, Duration timeout, int expectedExit)
            throws IOException, InterruptedException {
        Result r = exec(cmd, env, timeout);
        System.out.println(r.output());
        assertEquals(expectedExit, r.exit(), cmd + " exited " + r.exit() + "; its output ends:\n"
                + JvmDaemon.tail(r.output(), 80));
        return r.output();
    }

    /** Runs {@code cmd} with {@code env} added and returns how it ended; fails the test on timeout. */
    public static Result exec(List<String> cmd, Map<String, String> env, Duration timeout)
            throws IOException, InterruptedException {
        Path log = Files.createTempFile("advspark-script-", ".log");
        try {
            Process p = start(cmd, env, log);
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                killTree(p);
                throw new AssertionError(cmd + " did not finish within " + timeout.toSeconds() + " s (killed); its output ends:\n"
                        + JvmDaemon.tail(output(log), 60));
            }
            return new Result(p.exitValue(), output(log));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /**
     * Starts {@code cmd} in the background with {@code env} added and SPARK_HOME removed, its output
     * (stdout and stderr interleaved) into {@code log}; for a test that watches or kills it.
     */
    public static Process start(List<String> cmd, Map<String, String> env, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().remove("SPARK_HOME");
        pb.environment().putAll(env);
        return pb.start();
    }

    /**
     * SIGKILLs {@code p} and every process it started (no shutdown hook, no cleanup runs) and waits
     * for them to end. The descendants are listed before the kill: once their parent is gone they
     * are re-parented and no longer found from it.
     *
     * @return the pid and executable of each process killed, the script's own first (for a test's log)
     */
    public static List<String> killTree(Process p) throws InterruptedException {
        List<ProcessHandle> tree = new java.util.ArrayList<>();
        tree.add(p.toHandle());
        p.descendants().forEach(tree::add);
        List<String> killed = new java.util.ArrayList<>();
        for (ProcessHandle h : tree) {
            String what = h.pid() + " " + h.info().command().orElse("?");
            if (h.destroyForcibly()) {
                killed.add(what);
            }
        }
        for (ProcessHandle h : tree) {
            h.onExit().completeOnTimeout(h, 30, TimeUnit.SECONDS).join();
            if (h.isAlive()) {
                throw new AssertionError("process " + h.pid() + " outlived SIGKILL by 30 s");
            }
        }
        p.waitFor();
        return killed;
    }

    /** Lenient: a stray non-UTF-8 byte must not hide the output of a failed script. */
    private static String output(Path log) throws IOException {
        return new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
    }
}
