package io.advspark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.Scripts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command, as a user runs it: {@code jobs/advspark attack} on the embedded
 * demo from another working folder, to its leaderboard; a round through spark-submit
 * ({@code --master}).
 */
class LauncherIT {

    private static String run(List<String> args, int expectedExit) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("jobs/advspark"));
        cmd.addAll(args);
        return Scripts.run(cmd, Map.of(), Duration.ofMinutes(10), expectedExit);
    }

    /** {@code jobs/advspark args} run with {@code dir} as the working folder. */
    private static String runIn(Path dir, List<String> args, int expectedExit) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", "-c", "cd \"$0\" && exec \"$@\"", dir.toString(),
                Path.of("jobs/advspark").toAbsolutePath().toString()));
        cmd.addAll(args);
        return Scripts.run(cmd, Map.of(), Duration.ofMinutes(10), expectedExit);
    }

    private static long pngs(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".png")).count();
        }
    }

    @Test
    void demoRoundRunsLocally(@TempDir Path out) throws Exception {
        // README command 1, from a folder that is not the repository: the demo's inputs come from
        // the installation, its outputs go under the working folder.
        String o = runIn(out, List.of("attack"), 0);
        assertTrue(o.contains("advspark round finished"), o);
        assertTrue(o.contains("advspark evaluation finished"), o);
        assertTrue(o.contains("advspark leaderboard: round demo"), o);
        for (String a : List.of("mi", "mi-di", "mi-di-ti")) {
            assertEquals(48, pngs(out.resolve("out/demo/images/" + a)), a);
        }
        assertTrue(Files.isDirectory(out.resolve("out/demo/records")));
        assertTrue(Files.isDirectory(out.resolve("out/demo/summary")));
    }

    @Test
    void masterGoesThroughSparkSubmit(@TempDir Path out) throws Exception {
        String o = run(List.of("attack", "-c", "src/test/resources/tiny-round.conf", "--master", "local[2]",
                "--set", "round.output=\"" + out + "\"",
                "--set", "round.id=submitted", "--set", "dataset.limit=12"), 0);
        assertTrue(o.contains("org.apache.spark.deploy.SparkSubmit") || o.contains("bin/spark-submit"), o);
        assertTrue(o.contains("--master local\\[2\\]") || o.contains("--master local[2]"), o);
        assertTrue(o.contains("12 attacked, 0 failed"), o);
        assertEquals(12, pngs(out.resolve("submitted/images/main")));
    }

    @Test
    void configErrorsExitWithTheKeyNamed() throws Exception {
        String o = run(List.of("attack", "--set", "attack.epss=3"), 2);
        assertTrue(o.contains("advspark: unknown configuration key 'advspark.attack.epss'"), o);
    }
}
