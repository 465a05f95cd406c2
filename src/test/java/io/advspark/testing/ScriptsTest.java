package io.advspark.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The integration tests' script runner: its timeout holds for a silent script and leaves no process behind. */
class ScriptsTest {

    @Test
    void aHungScriptIsKilledWithItsChildrenAndItsOutputIsKept() throws Exception {
        List<String> cmd = List.of("bash", "-c", "echo shell $$; sleep 300 & echo child $!; wait");
        AssertionError e = assertThrows(AssertionError.class, () -> Scripts.exec(cmd, Map.of(), Duration.ofSeconds(2)));
        assertTrue(e.getMessage().contains("did not finish within 2 s (killed)"), e.getMessage());
        for (String kind : List.of("shell", "child")) {
            long pid = Long.parseLong(e.getMessage().replaceAll("(?s).*" + kind + " (\\d+).*", "$1"));
            ProcessHandle.of(pid).ifPresent(h -> h.onExit().orTimeout(10, TimeUnit.SECONDS).join());
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), kind + " " + pid + " still alive");
        }
    }

    @Test
    void exitCodeAndEnvironmentReachTheCaller() throws Exception {
        Scripts.Result r = Scripts.exec(List.of("bash", "-c", "echo \"$GREETING\"; echo oops >&2; exit 3"),
                Map.of("GREETING", "hello"), Duration.ofSeconds(30));
        assertEquals(3, r.exit());
        assertEquals("hello\noops\n", r.output());
    }
}
