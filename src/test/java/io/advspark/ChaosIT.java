package io.advspark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.score.Perturbation;
import io.advspark.testing.JvmDaemon;
import io.advspark.testing.Rounds;
import io.advspark.testing.Scripts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chaos check of issue 13: the driver of a local round (the repo's demo set, three attack
 * configs) is killed with SIGKILL at random points eight times in a row on one round, each run
 * resuming the last, then the round is run to completion. The final tables hold exactly one row
 * per (attack, ImageId) and no error, every PNG decodes and is within its attack's eps, and the
 * images equal, byte for byte, those of an uninterrupted run of the same round.
 *
 * <p>Kill points: each kill aims at a phase of the run, start-up three times and the batches four
 * times in a random order, then the end once (a run that gets to its end completes the round), and
 * falls at a random point of it: start-up, up to 2 s after the launch, libtorch's start or the
 * end of the checks (then the resume scan and the attacks table); batches, once a uniform share of
 * the run's pairs (up to three quarters) is written, at once (amid a batch's PNGs, before its record commits them) or up
 * to half a second later (computing); end, up to 1.5 s after the run's last pair. Points count from
 * the killed run's own log and files, as the time of each step varies with the machine's load.
 * Kills are SIGKILLs of the launcher's process tree ({@code jobs/advspark} execs the driver JVM).
 * {@code -Dchaos.seed=N} replays the choices; the seed and each kill point are printed.
 */
class ChaosIT {
    private static final int KILLS = 8;
    private static final int IMAGES = 48; // all of demo/data
    private static final String ROUND = "chaos";
    /** Name and L-inf budget (0..255) of each attack config; differing budgets test each against its own. */
    private static final Map<String, Integer> EPS = new LinkedHashMap<>(Map.of("mi", 8, "mi-di", 4, "ni-ti", 6));
    private static final String ATTACKS = "attacks=[{name=mi, eps=8}, "
            + "{name=mi-di, eps=4, input=[\"di(p=0.5, resize=1.1)\"]}, "
            + "{name=ni-ti, eps=6, update=\"ni(decay=1.0)\", gradient=[\"ti(size=5, sigma=1)\"]}]";
    /** Twice the default: the batches take about as long as start-up, so kills find work in flight. */
    private static final int STEPS = 20;
    /** Log lines that mark steps of start-up; the first stands for the launch. */
    private static final List<String> STARTUP_STEPS = List.of("", " started (threads=", " manifest rows (");
    /** A resumed run's pairs to do, from its log. */
    private static final Pattern TODO = Pattern.compile("pairs committed by an earlier run are skipped, (\\d+) to do");
    private static final Duration RUN_TIMEOUT = Duration.ofMinutes(3);

    private static List<String> command(Path out) {
        return List.of("jobs/advspark", "attack", "-c", "src/test/resources/tiny-round.conf", "--set", "round.output=\"" + out + "\"", "--set", "round.id=" + ROUND,
                "--set", "spark.master=\"local[2]\"", "--set", "threads=1", "--set", "attack.steps=" + STEPS, "--set", ATTACKS);
    }

    @Test
    void eightKilledRunsResumeToTheUninterruptedRound(@TempDir Path tmp) throws Exception {
        long seed = Long.getLong("chaos.seed", System.nanoTime());
        System.out.println("chaos: seed " + seed + " (-Dchaos.seed=" + seed + " replays the kill points)");
        Random random = new Random(seed);
        int total = IMAGES * EPS.size();
        long t0 = System.nanoTime();

        Path straightOut = tmp.resolve("straight");
        Phases ref = reference(command(straightOut), straightOut.resolve(ROUND), tmp.resolve("straight.log"));
        System.out.printf("chaos: uninterrupted run: attack job at %.1f s, last pair at %.1f s, exit at %.1f s%n",
                ref.job(), ref.batchesEnd(), ref.exit());

        // Every phase is aimed at, in a random order, but the end last: a run that gets to its end
        // completes the round, and later kills could only hit start-up or the end again.
        List<Phase> aims = new ArrayList<>(List.of(Phase.START_UP, Phase.START_UP, Phase.START_UP, Phase.BATCHES,
                Phase.BATCHES, Phase.BATCHES, Phase.BATCHES));
        Collections.shuffle(aims, random);
        aims.add(Phase.END);

        Path out = tmp.resolve("killed");
        Path round = out.resolve(ROUND);
        long tk = System.nanoTime();
        List<String> landed = new ArrayList<>();
        for (int k = 1; k <= KILLS; k++) {
            Phase aim = aims.get(k - 1);
            double u = random.nextDouble();
            double v = random.nextDouble();
            int pngsBefore = written(round);
            Path log = tmp.resolve("kill-" + k + ".log");
            long started = System.nanoTime();
            FileTime launched = FileTime.from(Instant.now());
            Process p = Scripts.start(command(out), Map.of(), log);
            // Kill points count from the start of their phase as this run logs it, and within the
            // batches from this run's progress, not from the launch: how long each phase takes
            // varies with the machine's load (other JVMs share its two cores).
            String point;
            if (aim == Phase.START_UP) {
                // Up to 2 s after one of its steps: the launch (JVM and Spark start), libtorch
                // started (Spark session, checks), the checks done (resume scan, attacks table).
                int step = (int) (u * STARTUP_STEPS.size());
                if (step > 0) {
                    awaitLog(p, log, STARTUP_STEPS.get(step), started);
                }
                double delay = (step == 0 ? 0.3 : 0) + v * 2;
                p.waitFor((long) (delay * 1000), TimeUnit.MILLISECONDS);
                point = String.format(Locale.ROOT, "%.2f s after %s", delay,
                        step == 0 ? "the launch" : "'" + STARTUP_STEPS.get(step) + "'");
            } else if (aim == Phase.BATCHES) {
                // Once a uniform share of this run's pairs is written: half of the kills at once, in
                // the burst of a batch's PNGs before its record file commits them (a batch writes its
                // 8 PNGs and its record in tens of ms), half up to half a second later, computing.
                String output = awaitPhase(p, log, Phase.BATCHES, started);
                Matcher m = TODO.matcher(output);
                int todo = m.find() ? Integer.parseInt(m.group(1)) : total;
                // At most three quarters: the four batch kills then leave work for one another.
                int pairs = (int) (u * 0.75 * todo);
                boolean burst = v < 0.5;
                while (p.isAlive() && writtenSince(round, launched) < pairs && phase(Files.readString(log)) != Phase.END) {
                    Thread.sleep(burst ? 2 : 20);
                }
                double delay = burst ? 0 : (v - 0.5);
                p.waitFor((long) (delay * 1000), TimeUnit.MILLISECONDS);
                point = String.format(Locale.ROOT, "%.2f s after %d of its %d pairs", delay, pairs, todo);
            } else {
                awaitPhase(p, log, Phase.END, started);
                // The end's length varies most: the uninterrupted run's first query compiles what a
                // resumed run's scan has compiled already.
                double delay = u * 1.5;
                p.waitFor((long) (delay * 1000), TimeUnit.MILLISECONDS);
                point = String.format(Locale.ROOT, "%.2f s after its last pair", delay);
            }
            boolean ended = !p.isAlive();
            Phase at = phase(Files.readString(log));
            List<String> killed = ended ? List.of() : Scripts.killTree(p);
            double killedAt = (System.nanoTime() - started) / 1e9;
            String output = Files.readString(log);
            String where = ended ? "none: the run ended first (exit " + p.exitValue() + ")" : at.label;
            landed.add(where);
            System.out.printf(Locale.ROOT, "chaos: kill %d: aimed at %s, %s, at %.1f s: landed in %s; PNGs %d -> %d of %d,"
                    + " record files %d, temporaries %s; killed %s; its log ends:%n%s%n", k, aim.label, point, killedAt,
                    where, pngsBefore, written(round), total, Rounds.committedParts(round.resolve("records")), temporaries(round), killed,
                    JvmDaemon.tail(output, 3));
            if (ended) {
                assertEquals(0, p.exitValue(), "run " + k + " ended by itself and failed:\n" + JvmDaemon.tail(output, 60));
            }
        }
        double killsSeconds = (System.nanoTime() - tk) / 1e9;

        long tf = System.nanoTime();
        String last = Scripts.run(command(out), Map.of(), RUN_TIMEOUT, 0);
        assertTrue(last.contains("advspark round finished"), last);
        double finalSeconds = (System.nanoTime() - tf) / 1e9;

        long tc = System.nanoTime();
        checkTables(round);
        checkImages(round, straightOut.resolve(ROUND), total);
        // Last, so that a leftover does not hide a failure of the checks above.
        assertEquals(List.of(), temporaries(round), "writers' temporaries left in the round by the killed runs");
        System.out.printf("chaos: kills landed in %s%n", landed);
        System.out.printf("chaos: times: uninterrupted run %.1f s, %d killed runs %.1f s, final run %.1f s, checks %.1f s,"
                + " whole test %.1f s%n", ref.exit(), KILLS, killsSeconds, finalSeconds, (System.nanoTime() - tc) / 1e9,
                (System.nanoTime() - t0) / 1e9);
    }

    /** Waits until the run's log shows {@code phase} or a later one, or the run ends; returns the log. */
    private static String awaitPhase(Process p, Path log, Phase phase, long started) throws Exception {
        return await(p, log, out -> phase(out).ordinal() >= phase.ordinal(), phase.label, started);
    }

    /** Waits until the run's log holds {@code text} or a later phase than start-up, or the run ends. */
    private static String awaitLog(Process p, Path log, String text, long started) throws Exception {
        return await(p, log, out -> out.contains(text) || phase(out) != Phase.START_UP, "'" + text + "'", started);
    }

    private static String await(Process p, Path log, java.util.function.Predicate<String> seen, String what, long started)
            throws Exception {
        while (true) {
            String output = Files.readString(log);
            if (!p.isAlive() || seen.test(output)) {
                return output;
            }
            if (System.nanoTime() - started > RUN_TIMEOUT.toNanos()) {
                Scripts.killTree(p);
                throw new AssertionError("no " + what + " within " + RUN_TIMEOUT.toSeconds() + " s:\n"
                        + JvmDaemon.tail(output, 60));
            }
            Thread.sleep(20);
        }
    }

    /** The phases of a run, in order, as its log shows them. */
    private enum Phase {
        START_UP("start-up"), BATCHES("batches"), END("end");

        final String label;

        Phase(String label) {
            this.label = label;
        }
    }

    /**
     * Start-up (JVM, libtorch, checks, resume scan, attacks table) until the attack job is laid out;
     * batches until every pair of this run is done; then the end (summary read back from the
     * records, Spark's shutdown).
     */
    private static Phase phase(String log) {
        if (log.contains("(image, attack) pairs (100%)") || log.contains("is complete: nothing to do")) {
            return Phase.END;
        }
        return log.contains(" partitions for ") ? Phase.BATCHES : Phase.START_UP;
    }

    /** Seconds from the launch of the uninterrupted run to its attack job, its last pair and its exit. */
    private record Phases(double job, double batchesEnd, double exit) {}

    /** Runs the round uninterrupted, watching its log for the times of its phases. */
    private static Phases reference(List<String> cmd, Path round, Path log) throws Exception {
        long start = System.nanoTime();
        Process p = Scripts.start(cmd, Map.of(), log);
        double[] at = {-1, -1};
        long deadline = start + RUN_TIMEOUT.toNanos();
        while (!p.waitFor(20, TimeUnit.MILLISECONDS)) {
            if (System.nanoTime() > deadline) {
                Scripts.killTree(p);
                throw new AssertionError("the uninterrupted run did not end within " + RUN_TIMEOUT.toSeconds() + " s:\n"
                        + JvmDaemon.tail(Files.readString(log), 60));
            }
            Phase now = phase(Files.readString(log));
            for (Phase ph : List.of(Phase.BATCHES, Phase.END)) {
                if (now.ordinal() >= ph.ordinal() && at[ph.ordinal() - 1] < 0) {
                    at[ph.ordinal() - 1] = (System.nanoTime() - start) / 1e9;
                }
            }
        }
        double exit = (System.nanoTime() - start) / 1e9;
        String output = Files.readString(log);
        System.out.println(output);
        assertEquals(0, p.exitValue(), "the uninterrupted run failed:\n" + JvmDaemon.tail(output, 60));
        assertTrue(at[0] > 0 && at[1] >= at[0], "the phases of the uninterrupted run were not seen in its log");
        assertEquals(IMAGES * EPS.size(), written(round), "PNGs of the uninterrupted run");
        return new Phases(at[0], at[1], exit);
    }

    /** One row per (attack, ImageId), none with an error; one attacks-table row per attack config. */
    private static void checkTables(Path round) {
        SparkSession spark = SparkSession.builder().master("local[1]").appName("chaos-check")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false").getOrCreate();
        try {
            Map<String, Integer> rows = new TreeMap<>();
            for (Row r : spark.read().parquet(round.resolve("records").toString()).collectAsList()) {
                String key = r.getAs("attack") + "/" + r.getAs("image_id");
                rows.merge(key, 1, Integer::sum);
                assertTrue(r.isNullAt(r.fieldIndex("error")), key + ": error row: " + r.getAs("error"));
            }
            rows.forEach((key, n) -> assertEquals(1, n, "records rows of " + key));
            assertEquals(IMAGES * EPS.size(), rows.size(), "(attack, ImageId) keys in records");
            List<String> attacks = spark.read().parquet(round.resolve("attacks").toString()).collectAsList().stream()
                    .map(r -> r.<String>getAs("attack")).sorted().toList();
            assertEquals(new TreeSet<>(EPS.keySet()).stream().toList(), attacks, "attacks table");
        } finally {
            spark.stop();
        }
    }

    /** Every PNG decodes, is within its attack's eps of the clean image, and equals the uninterrupted run's. */
    private static void checkImages(Path round, Path straight, int total) throws IOException {
        Map<String, Path> killed = withoutTemporaries(pngs(round));
        Map<String, Path> reference = pngs(straight);
        assertEquals(reference.keySet(), killed.keySet(), "files under images/ (temporaries aside)");
        assertEquals(total, killed.size());
        Map<String, RgbImage> clean = new HashMap<>();
        for (Map.Entry<String, Path> e : killed.entrySet()) {
            String attack = e.getKey().substring(0, e.getKey().indexOf('/'));
            String id = e.getValue().getFileName().toString();
            byte[] bytes = Files.readAllBytes(e.getValue());
            RgbImage adv = Png.decode(bytes, e.getValue().toString());
            RgbImage orig = clean.computeIfAbsent(id, i -> {
                try {
                    return Png.decode(Files.readAllBytes(Path.of("demo/data/images", i)), i);
                } catch (IOException x) {
                    throw new java.io.UncheckedIOException(x);
                }
            });
            double linf = Perturbation.between(orig, adv).linf();
            assertTrue(linf <= EPS.get(attack), e.getKey() + ": L-inf " + linf + " exceeds eps " + EPS.get(attack));
            assertArrayEquals(Files.readAllBytes(reference.get(e.getKey())), bytes,
                    e.getKey() + " differs from the uninterrupted run's");
        }
    }

    /** Every file under {@code <round>/images}, hidden ones included, by its path below images/. */
    private static Map<String, Path> pngs(Path round) throws IOException {
        Path images = round.resolve("images");
        Map<String, Path> out = new TreeMap<>();
        if (!Files.isDirectory(images)) {
            return out;
        }
        try (Stream<Path> s = Files.walk(images)) {
            s.filter(Files::isRegularFile).forEach(p -> out.put(images.relativize(p).toString(), p));
        } catch (java.io.UncheckedIOException e) {
            // A folder listed while the killed run's successor creates it; the caller polls again.
            return pngs(round);
        }
        return out;
    }

    private static Map<String, Path> withoutTemporaries(Map<String, Path> files) {
        Map<String, Path> out = new TreeMap<>(files);
        out.values().removeIf(p -> p.getFileName().toString().startsWith("._tmp"));
        return out;
    }

    /** PNGs in place under {@code <round>/images} (not the writers' hidden temporaries). */
    private static int written(Path round) throws IOException {
        return (int) pngs(round).values().stream().filter(p -> !p.getFileName().toString().startsWith(".")).count();
    }

    /** PNGs in place under {@code <round>/images} written since {@code since}: a run's progress, redone ones included. */
    private static int writtenSince(Path round, FileTime since) throws IOException {
        int n = 0;
        for (Path p : pngs(round).values()) {
            try {
                if (!p.getFileName().toString().startsWith(".") && Files.getLastModifiedTime(p).compareTo(since) >= 0) {
                    n++;
                }
            } catch (java.nio.file.NoSuchFileException e) {
                // A temporary renamed away while listed.
            }
        }
        return n;
    }


    /** Writers' temporaries ({@code ._tmp.*}) anywhere in the round, as paths below it. */
    private static List<String> temporaries(Path round) throws IOException {
        if (!Files.isDirectory(round)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(round)) {
            return s.filter(p -> p.getFileName().toString().startsWith("._tmp")).map(p -> round.relativize(p).toString())
                    .sorted().toList();
        }
    }
}
