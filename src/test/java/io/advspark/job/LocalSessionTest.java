package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.advspark.plan.ConfigLoader;
import io.advspark.testing.Rounds;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * A local round survives a pause: its driver, which is the executor, does not expire its own
 * heartbeat after Spark's 120 s (checked by hand: a demo round SIGSTOPped for 150 s logged 26
 * "Ignoring error" stack traces with the default, none with this setting, and finished).
 */
class LocalSessionTest {
    @Test
    void localModeDoesNotExpireItsOwnExecutorAndARoundSettingWins() {
        SparkSession s = Sessions.create(ConfigLoader.load(Rounds.TINY, List.of()), "local[1]");
        try {
            assertEquals(Sessions.LOCAL_HEARTBEAT_TIMEOUT_MS, s.sparkContext().conf().get(Sessions.LOCAL_HEARTBEAT_TIMEOUT));
        } finally {
            s.stop();
        }
        SparkSession own = Sessions.create(ConfigLoader.load(Rounds.TINY,
                List.of("spark.conf.\"" + Sessions.LOCAL_HEARTBEAT_TIMEOUT + "\"=300000")), "local[1]");
        try {
            assertEquals("300000", own.sparkContext().conf().get(Sessions.LOCAL_HEARTBEAT_TIMEOUT));
        } finally {
            own.stop();
        }
    }
}
