package io.advspark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.Scripts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A round that cannot write (full disk, read-only store) ends with one line naming the path, the
 * round and what to do, exit 3, the stack trace in the log file and nothing half-written visible;
 * {@code --check} and a failed validation leave no round folder behind. Real launcher runs of the
 * demo round on small tmpfs mounts (root needed: skipped elsewhere, required under CI=true).
 */
class WriteFailuresIT {
    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    @TempDir
    Path tmp;

    private Scripts.Result attack(Path logs, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("jobs/advspark", "attack"));
        if (!Arrays.asList(args).contains("-c")) {
            cmd.addAll(List.of("-c", "src/test/resources/tiny-round.conf")); // the tests' base round
        }
        cmd.addAll(Arrays.asList(args));
        Scripts.Result r = Scripts.exec(cmd, Map.of("ADVSPARK_LOG_DIR", logs.toString()), TIMEOUT);
        System.out.println(r.output());
        return r;
    }

    private static String set(String key, Object value) {
        return key + "=\"" + value + "\"";
    }

    @Test
    void fullDiskEndsWithOneLineAndTheRoundResumesOnceThereIsSpace() throws Exception {
        Path disk = tmp.resolve("disk");
        Path logs = tmp.resolve("logs");
        mount(disk, "size=96k"); // the attacks table and a few 64x64 PNGs of 16 fit
        try {
            Scripts.Result r = attack(logs, "--set", set("round.output", disk), "--set", "round.id=full",
                    "--set", "dataset.limit=16");
            String line = assertOneLine(r, disk.resolve("full"), "full", logs);
            assertTrue(line.contains(": No space left on device. Free space or set advspark.round.output elsewhere, then"
                    + " rerun: the round resumes from what is committed."), line);
            assertNothingHalfWritten(disk.resolve("full"));

            // As the line says: with space, the same command resumes and completes the round.
            remount(disk, "remount,size=2m");
            Scripts.Result again = attack(logs, "--set", set("round.output", disk), "--set", "round.id=full",
                    "--set", "dataset.limit=16");
            assertEquals(0, again.exit(), again.output());
            assertTrue(again.output().contains("16 attacked, 0 failed"), again.output());
            assertEquals(16, decodedPngs(disk.resolve("full/images/main")));
        } finally {
            unmount(disk);
        }
    }

    @Test
    void readOnlyStoreEndsWithOneLine() throws Exception {
        Path store = tmp.resolve("store");
        Path logs = tmp.resolve("logs");
        mount(store, "size=1m");
        Path images = store.resolve("ro/images");
        try {
            // The round folder is writable (probe, attacks table), its images folder is not: the
            // failure happens in the tasks, on the executors. A first run of 2 images makes the
            // folder an advspark round (marker); the read-only mount then hides its PNGs, so the
            // rerun redoes them and attacks 6 more.
            assertEquals(0, attack(tmp.resolve("logs-first"), "--set", set("round.output", store), "--set", "round.id=ro",
                    "--set", "dataset.limit=2").exit());
            mount(images, "ro,size=64k");
            Scripts.Result r = attack(logs, "--set", set("round.output", store), "--set", "round.id=ro",
                    "--set", "dataset.limit=8");
            String line = assertOneLine(r, images.resolve("main"), "ro", logs);
            assertTrue(line.contains(": Read-only file system. Make it writable or set advspark.round.output"), line);
            assertNothingHalfWritten(store.resolve("ro"));
        } finally {
            unmount(images);
            unmount(store);
        }

        // A store that is read-only from the start: refused by the probe, before any work, alike.
        Path readOnly = tmp.resolve("readonly");
        Path logs2 = tmp.resolve("logs2");
        mount(readOnly, "ro,size=64k");
        try {
            Scripts.Result r = attack(logs2, "--set", set("round.output", readOnly), "--set", "round.id=ro",
                    "--set", "dataset.limit=8");
            String line = assertOneLine(r, readOnly.resolve("ro"), "ro", logs2);
            assertTrue(line.contains(": Read-only file system. Make it writable"), line);
        } finally {
            unmount(readOnly);
        }
    }

    @Test
    void fullDiskDuringEvaluationEndsWithOneLine() throws Exception {
        Path disk = tmp.resolve("disk");
        mount(disk, "size=1m");
        try {
            String[] round = {"-c", "conf/demo-evaluate.conf", "--set", set("round.output", disk), "--set", "round.id=ev",
                "--set", "dataset.limit=8"};
            List<String> attack = new ArrayList<>(List.of(round));
            attack.add("--no-evaluate");
            Scripts.Result a = attack(tmp.resolve("logs-attack"), attack.toArray(String[]::new));
            assertEquals(0, a.exit(), a.output());
            // Two pages left: the write probe passes, Spark's table writer then runs out of space.
            try (java.io.OutputStream out = Files.newOutputStream(disk.resolve("filler"))) {
                byte[] block = new byte[4096];
                while (true) {
                    out.write(block);
                    out.flush();
                }
            } catch (java.io.IOException full) {
                // the disk is full
            }
            try (java.nio.channels.FileChannel f = java.nio.channels.FileChannel.open(disk.resolve("filler"),
                    java.nio.file.StandardOpenOption.WRITE)) {
                f.truncate(Math.max(0, f.size() / 4096 * 4096 - 8192));
            }
            List<String> evaluate = new ArrayList<>(List.of("jobs/advspark", "evaluate"));
            evaluate.addAll(List.of(round));
            Path logs = tmp.resolve("logs");
            Scripts.Result r = Scripts.exec(evaluate, Map.of("ADVSPARK_LOG_DIR", logs.toString()), TIMEOUT);
            System.out.println(r.output());
            String line = assertOneLine(r, disk.resolve("ev"), "ev", logs);
            assertTrue(line.contains(": No space left on device. Free space"), line);
            assertNothingHalfWritten(disk.resolve("ev"));
        } finally {
            unmount(disk);
        }
    }

    @Test
    void checkOnAFreshRoundLeavesNoFolder() throws Exception {
        Path out = tmp.resolve("out"); // does not exist yet: the run must not leave it either
        Scripts.Result r = attack(tmp.resolve("logs"), "--check", "--set", set("round.output", out),
                "--set", "round.id=fresh");
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("advspark: configuration, manifest and models are valid"), r.output());
        assertFalse(Files.exists(out), "--check left " + listing(tmp));
    }

    @Test
    void aFailedValidationLeavesNoFolder() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Scripts.Result r = attack(tmp.resolve("logs"), "--set", set("round.output", out), "--set", "round.id=bad",
                "--set", "dataset.manifest=missing.csv");
        assertEquals(2, r.exit(), r.output());
        assertTrue(r.output().contains("advspark: manifest not found: "), r.output());
        assertTrue(Files.isDirectory(out), "the output root existed before and must stay");
        assertEquals(List.of(), listing(out), "a failed validation left a round folder");
    }

    @Test
    void aFolderThatExistedBeforeStaysAsItWas() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Path round = Files.createDirectories(out.resolve("kept")); // empty: the easy one to remove by mistake
        Files.writeString(out.resolve("notes.txt"), "mine");
        Scripts.Result r = attack(tmp.resolve("logs"), "--check", "--set", set("round.output", out),
                "--set", "round.id=kept");
        assertEquals(0, r.exit(), r.output());
        assertTrue(Files.isDirectory(round), "the round folder existed before --check and must stay");
        assertEquals(List.of("kept", "notes.txt"), listing(out));
        assertEquals(List.of(), listing(round));
        assertEquals("mine", Files.readString(out.resolve("notes.txt")));
    }

    /**
     * The run exited 3 with exactly one {@code advspark:} line, naming a path under {@code under}
     * and the round, and the log file, which holds the stack trace; no stack trace on the terminal.
     */
    private static String assertOneLine(Scripts.Result r, Path under, String round, Path logs) throws Exception {
        String out = r.output();
        assertEquals(3, r.exit(), out);
        List<String> lines = out.lines().filter(l -> l.startsWith("advspark:")).toList();
        assertEquals(1, lines.size(), "expected one advspark: line:\n" + out);
        String line = lines.get(0);
        Matcher m = Pattern.compile("advspark: cannot write file:(?://)?(\\S+) \\(round " + Pattern.quote(round)
                + "\\): .* Details: (\\S+)$").matcher(line);
        assertTrue(m.matches(), line);
        assertTrue(Path.of(m.group(1)).startsWith(under), "the line names " + m.group(1) + ", not a path under " + under);
        assertFalse(out.contains("Exception"), "an exception on the terminal:\n" + out);
        assertFalse(Pattern.compile("(?m)^\\s+at ").matcher(out).find(), "a stack trace on the terminal:\n" + out);
        assertFalse(out.contains("Lost task") || out.contains("aborting job"), "Spark's task failures on the terminal:\n" + out);

        List<Path> files;
        try (Stream<Path> s = Files.list(logs)) {
            files = s.toList();
        }
        assertEquals(1, files.size(), "one log file per run: " + files);
        assertEquals(files.get(0).toRealPath(), Path.of(m.group(2)).toRealPath(), "the line names the log file");
        String log = Files.readString(files.get(0), StandardCharsets.UTF_8);
        assertTrue(log.contains("io.advspark.data.StoreWriteException: cannot write"), log);
        assertTrue(Pattern.compile("(?m)^\\s+at ").matcher(log).find(), "no stack trace in the log:\n" + log);
        return line;
    }

    /** No temporary of ours left, every visible PNG decodes, every visible Parquet file is whole. */
    private static void assertNothingHalfWritten(Path round) throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.walk(round)) {
            files = s.filter(Files::isRegularFile).toList();
        }
        for (Path f : files) {
            String n = f.getFileName().toString();
            assertFalse(n.contains("._tmp") || n.startsWith("._advspark_write_probe_"), "left behind: " + f);
            boolean hidden = false; // readers skip . and _ names (Spark's _temporary, our temporaries)
            for (Path part : round.relativize(f)) {
                hidden |= part.toString().startsWith(".") || part.toString().startsWith("_");
            }
            if (hidden) {
                continue;
            }
            if (n.endsWith(".png")) {
                assertNotNull(ImageIO.read(f.toFile()), "a PNG that does not decode: " + f);
            } else if (n.endsWith(".parquet")) {
                byte[] b = Files.readAllBytes(f);
                byte[] magic = "PAR1".getBytes(StandardCharsets.US_ASCII);
                assertTrue(b.length > 8, "a truncated Parquet file: " + f);
                assertArrayEquals(magic, Arrays.copyOfRange(b, 0, 4), "a truncated Parquet file: " + f);
                assertArrayEquals(magic, Arrays.copyOfRange(b, b.length - 4, b.length), "a truncated Parquet file: " + f);
            }
        }
    }

    private static long decodedPngs(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> pngs = s.filter(p -> p.toString().endsWith(".png")).toList();
            for (Path p : pngs) {
                assertNotNull(ImageIO.read(p.toFile()), "a PNG that does not decode: " + p);
            }
            return pngs.size();
        }
    }

    private static List<String> listing(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** A small tmpfs at {@code dir}; the test is skipped where mounting is not allowed, except under CI=true. */
    private static void mount(Path dir, String options) throws Exception {
        Files.createDirectories(dir);
        Scripts.Result r = Scripts.exec(List.of("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir.toString()),
                Map.of(), Duration.ofMinutes(1));
        if (r.exit() != 0) {
            String msg = "cannot mount a tmpfs (needs root): " + r.output().strip();
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail(msg + "; CI=true requires it");
            }
            Assumptions.abort("skipped: " + msg);
        }
    }

    private static void remount(Path dir, String options) throws Exception {
        Scripts.Result r = Scripts.exec(List.of("mount", "-o", options, dir.toString()), Map.of(), Duration.ofMinutes(1));
        assertEquals(0, r.exit(), r.output());
    }

    private static void unmount(Path dir) throws Exception {
        Scripts.Result r = Scripts.exec(List.of("umount", dir.toString()), Map.of(), Duration.ofMinutes(1));
        if (r.exit() != 0 && Files.exists(dir)) {
            Scripts.exec(List.of("umount", "-l", dir.toString()), Map.of(), Duration.ofMinutes(1));
        }
    }
}
