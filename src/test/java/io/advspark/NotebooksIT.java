package io.advspark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.Scripts;
import io.advspark.testing.Shared;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The analysis journey on a real round: conf/cifar10-ablation.conf (6 attack configs, defended
 * targets) on ../shared CIFAR-10 images through the user's launcher, its leaderboard through
 * {@code advspark report}, and every notebook executed headless over its Parquet tables
 * ({@code notebooks/run-headless}: fails unless each notebook shows figures and no error).
 */
class NotebooksIT {

    private static String run(List<String> cmd, int expectedExit) throws Exception {
        return Scripts.run(cmd, Map.of(), Duration.ofMinutes(15), expectedExit);
    }

    /** Jupyter and Node must be there (.ci/run installs them); elsewhere the test is skipped. */
    private static void requireNotebookTools() throws Exception {
        Scripts.Result r = Scripts.exec(List.of("bash", "-c",
                "/usr/bin/python3 -c 'import nbconvert, ipykernel, pandas, matplotlib' && command -v node && "
                        + "test -d notebooks/node_modules/hyparquet"), Map.of(), Duration.ofMinutes(2));
        String out = r.output();
        if (r.exit() != 0) {
            String msg = "notebook tools missing (apt-get install jupyter-nbconvert python3-ipykernel python3-pandas"
                    + " python3-matplotlib nodejs npm; npm ci --prefix notebooks): " + out.strip();
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail(msg + "; CI=true requires them");
            }
            Assumptions.abort("skipped: " + msg);
        }
    }

    @Test
    void notebooksRunOnARealRoundsTables(@TempDir Path tmp) throws Exception {
        Path shared = Shared.root();
        requireNotebookTools();
        String round = run(List.of("jobs/advspark", "attack", "-c", "conf/cifar10-ablation.conf",
                "--set", "round.output=\"" + tmp + "\"", "--set", "dataset.limit=48", "--set", "threads=1"), 0);
        assertTrue(round.contains("advspark evaluation finished"), round);
        Path dir = tmp.resolve("cifar10-ablation");
        for (String t : List.of("attacks", "records", "predictions", "scores", "summary")) {
            assertTrue(Files.isDirectory(dir.resolve(t)), t + " missing");
        }

        String board = run(List.of("jobs/advspark", "report", dir.toString()), 0);
        List<String> ranked = new ArrayList<>();
        for (String line : board.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 2 && f[0].matches("\\d+") && f[1].startsWith("mi")) {
                ranked.add(f[1]);
            }
        }
        assertEquals(6, ranked.size(), "one leaderboard line per attack config:\n" + board);

        Path nb = tmp.resolve("notebooks");
        String out = run(List.of("notebooks/run-headless", dir.toString(), shared.resolve("data/cifar10-300").toString(),
                nb.toString()), 0);
        try (var files = Files.list(Path.of("notebooks"))) {
            for (Path n : files.filter(p -> p.toString().endsWith(".ipynb")).toList()) {
                Path executed = nb.resolve(n.getFileName());
                assertTrue(Files.isRegularFile(executed), "not executed: " + n);
                String json = Files.readString(executed);
                assertTrue(json.contains("\"image/png\""), n + " has no figure");
                assertTrue(!json.contains("\"output_type\": \"error\""), n + " has an error output");
                // committed notebooks carry no outputs: the figures come from this run only
                assertTrue(!Files.readString(n).contains("\"image/png\""), n + " is committed with outputs");
            }
        }
        assertTrue(out.contains("0 failed"), out);
    }
}
