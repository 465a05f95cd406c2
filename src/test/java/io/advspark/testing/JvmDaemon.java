package io.advspark.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A JVM (or any process) started by a test, its output in a log file, stopped by its own PID:
 * {@link #close()} sends SIGTERM, waits, then SIGKILL, and kills the descendants it started
 * (e.g. a Spark Worker's executors) the same way. Nothing is ever stopped by name.
 */
public final class JvmDaemon implements AutoCloseable {
    /** Spark 3.5 on Java 17 needs these in every JVM that runs Spark (bin/spark-class adds them). */
    public static final List<String> SPARK_JVM_FLAGS;

    static {
        List<String> f = new ArrayList<>(List.of("-XX:+IgnoreUnrecognizedVMOptions", "-Djdk.reflect.useDirectMethodHandle=false"));
        for (String p : List.of("java.lang", "java.lang.invoke", "java.lang.reflect", "java.io", "java.net", "java.nio",
                "java.util", "java.util.concurrent", "java.util.concurrent.atomic", "jdk.internal.ref", "sun.nio.ch",
                "sun.nio.cs", "sun.security.action", "sun.util.calendar")) {
            f.add("--add-opens=java.base/" + p + "=ALL-UNNAMED");
        }
        SPARK_JVM_FLAGS = List.copyOf(f);
    }

    private final String name;
    private final Process process;
    private final Path log;

    private JvmDaemon(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /** The {@code java} of the running JVM. */
    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * Starts {@code command} with exactly {@code env} as its environment (plus PATH and HOME of
     * this JVM), standard output and error into {@code log}. Its standard input stays an open
     * pipe: a child may watch it to end with this JVM.
     */
    public static JvmDaemon start(String name, List<String> command, Map<String, String> env, Path workDir, Path log) {
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> e = pb.environment();
        String path = e.get("PATH");
        String home = e.get("HOME");
        e.clear();
        if (path != null) {
            e.put("PATH", path);
        }
        if (home != null) {
            e.put("HOME", home);
        }
        e.put("LANG", "C.UTF-8");
        e.putAll(env);
        try {
            Files.createDirectories(log.getParent());
            return new JvmDaemon(name, pb.start(), log);
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot start " + name + ": " + ex.getMessage(), ex);
        }
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    public Path log() {
        return log;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The log so far (empty if not written yet). */
    public String output() {
        try {
            return Files.exists(log) ? new String(Files.readAllBytes(log), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    /** The last {@code n} lines of the log. */
    public String tail(int n) {
        return tail(output(), n);
    }

    public static String tail(String text, int n) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    /**
     * Waits until the log has a line matching {@code pattern} and returns its match. Fails, with
     * the log's tail, when the process ends first or {@code timeoutSeconds} pass.
     */
    public Matcher awaitLine(Pattern pattern, long timeoutSeconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (true) {
            String out = output();
            for (String line : out.lines().toList()) {
                Matcher m = pattern.matcher(line);
                if (m.find()) {
                    return m;
                }
            }
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " (pid " + pid() + ") exited with " + process.exitValue()
                        + " before logging /" + pattern + "/; its log " + log + " ends:\n" + tail(out, 40));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(name + " (pid " + pid() + ") did not log /" + pattern + "/ within "
                        + timeoutSeconds + " s; its log " + log + " ends:\n" + tail(out, 40));
            }
            sleep(100);
        }
    }

    /**
     * Stops the process and every descendant it started: SIGTERM to the process (a Spark daemon's
     * shutdown hooks stop its executors), up to {@code graceSeconds} to end, then SIGKILL to it
     * and to any descendant still alive. Returns the PIDs it had to kill forcibly.
     */
    public List<Long> stop(long graceSeconds) {
        List<ProcessHandle> family = new ArrayList<>();
        try (Stream<ProcessHandle> d = process.descendants()) {
            d.forEach(family::add);
        }
        List<Long> forced = new ArrayList<>();
        process.destroy();
        try {
            if (!process.waitFor(graceSeconds, TimeUnit.SECONDS)) {
                forced.add(process.pid());
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
            }
            for (ProcessHandle h : family) {
                if (h.isAlive()) {
                    // Spark's executors end with their worker; give them the same grace.
                    try {
                        h.onExit().get(graceSeconds, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                        forced.add(h.pid());
                        h.destroyForcibly();
                        h.onExit().get(30, TimeUnit.SECONDS);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            family.forEach(ProcessHandle::destroyForcibly);
        } catch (Exception e) {
            family.forEach(ProcessHandle::destroyForcibly);
        }
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // the pipe of a dead process
        }
        return forced;
    }

    @Override
    public void close() {
        stop(20);
    }

    /**
     * Processes other than this JVM whose command line contains {@code needle} (e.g. a test's
     * unique folder), as "pid: command line".
     */
    public static List<String> processesMentioning(String needle) {
        long self = ProcessHandle.current().pid();
        List<String> out = new ArrayList<>();
        try (Stream<ProcessHandle> all = ProcessHandle.allProcesses()) {
            all.filter(h -> h.pid() != self && h.isAlive()).forEach(h -> {
                String cmd = commandLine(h);
                if (cmd.contains(needle)) {
                    out.add(h.pid() + ": " + (cmd.length() > 300 ? cmd.substring(0, 300) + "..." : cmd));
                }
            });
        }
        return out;
    }

    /** The full command line (from /proc where there is one; ProcessHandle may truncate it). */
    public static String commandLine(ProcessHandle h) {
        Path proc = Path.of("/proc", Long.toString(h.pid()), "cmdline");
        try {
            byte[] b = Files.readAllBytes(proc);
            for (int i = 0; i < b.length; i++) {
                if (b[i] == 0) {
                    b[i] = ' ';
                }
            }
            return new String(b, StandardCharsets.UTF_8);
        } catch (IOException | SecurityException e) {
            return h.info().commandLine().orElse("");
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
