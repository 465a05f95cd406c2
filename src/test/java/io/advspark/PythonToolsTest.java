package io.advspark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.advspark.testing.Shared;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs the Python unit tests of the repository's own tools (the torchvision/timm exporter on
 * randomly initialised architectures, the checkpoint-group collector, the dropout-site re-exporter,
 * the generated resize module, the budget-search replay's walk and score, and the reference attack's
 * self-test) as part of the one test command.
 */
class PythonToolsTest {

    private static void unittest(List<String> args) throws Exception {
        Shared.root();
        List<String> cmd = new java.util.ArrayList<>(List.of("-m", "unittest"));
        cmd.addAll(args);
        cmd.add(args.get(0).equals("discover") ? 3 : 2, "-v");
        Process p = Shared.pythonProcess(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(600, TimeUnit.SECONDS);
        System.out.println(out);
        assertEquals(0, p.exitValue(), out);
    }

    @Test
    void exporterTests() throws Exception {
        unittest(List.of("tools/test_export_model.py"));
    }

    @Test
    void checkpointCollectorTests() throws Exception {
        unittest(List.of("tools/test_collect_checkpoints.py"));
    }

    @Test
    void ghostModelTests() throws Exception {
        unittest(List.of("tools/test_ghost_model.py"));
    }

    @Test
    void resizeModuleTests() throws Exception {
        unittest(List.of("tools/test_make_resize_module.py"));
    }

    @Test
    void budgetSearchReplayTests() throws Exception {
        unittest(List.of("tools/test_replay_budget_search.py"));
    }

    @Test
    void referenceSelfTest() throws Exception {
        unittest(List.of("discover", "-s", "src/test/python", "-p", "test_*.py"));
    }
}
