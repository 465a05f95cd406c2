package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.LogCapture;
import io.advspark.testing.Rounds;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver shows progress while a task runs (from executor heartbeats), not only when tasks
 * end, and the summary says where the task time went. One partition, so every progress line
 * before the last comes from a heartbeat. Demo set: runs on a fresh clone.
 */
class ProgressTest {

    @Test
    void progressAdvancesWhileTheOnlyTaskRuns(@TempDir Path out) {
        Rounds.Result r;
        String log;
        try (LogCapture cap = LogCapture.start(Level.INFO)) {
            r = Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), "round.output=\"" + out + "\"", "dataset.partitions=1", "batch-size=4",
                    "attack.steps=30", "threads=1", "spark.conf.\"spark.executor.heartbeatInterval\"=\"500ms\""), "local[1]");
            log = cap.all();
        }
        List<Integer> seen = new ArrayList<>();
        Matcher m = Pattern.compile("(\\d+)/48 \\(image, attack\\) pairs").matcher(log);
        while (m.find()) {
            seen.add(Integer.parseInt(m.group(1)));
        }
        assertTrue(seen.stream().anyMatch(n -> n > 0 && n < 48), "no progress while the task ran: " + seen);
        assertEquals(48, seen.get(seen.size() - 1));
        for (int i = 1; i < seen.size(); i++) {
            assertTrue(seen.get(i) >= seen.get(i - 1), "progress went back: " + seen);
        }
        RunMetrics.Timings t = r.summary().timings();
        assertNotNull(t);
        assertEquals(1, t.executors().size());
        assertEquals(48, t.executors().get(0).images());
        assertTrue(t.attackSeconds() > 0 && t.attackSeconds() < t.taskSeconds(), t.toString());
        assertTrue(r.summary().render().contains("task time"), r.summary().render());
    }
}
