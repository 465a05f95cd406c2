package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.plan.ConfigLoader;
import io.advspark.vocabulary.ConfigException;
import java.util.List;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

/** {@code advspark.device} is checked at load and against the Spark resource settings before the app starts. */
class DeviceConfigTest {
    @Test
    void anUnknownDeviceIsAConfigErrorNamingTheKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of("device=cuda")));
        assertTrue(e.getMessage().contains("advspark.device: 'cuda' is not one of cpu, gpu"), e.getMessage());
        assertDoesNotThrow(() -> ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of("device=gpu")));
    }

    @Test
    void gpuOnAClusterNeedsTaskGpus() {
        SparkConf conf = new SparkConf(false).setMaster("spark://127.0.0.1:7077");
        ConfigException e = assertThrows(ConfigException.class, () -> Sessions.checkDevice("gpu", conf));
        assertTrue(e.getMessage().contains("advspark.device = gpu on spark://127.0.0.1:7077, but spark.task.resource.gpu.amount"
                + " is not set"), e.getMessage());
        assertTrue(e.getMessage().contains("jobs/gpu-discovery"), e.getMessage());
        conf.set("spark.task.resource.gpu.amount", "1");
        assertDoesNotThrow(() -> Sessions.checkDevice("gpu", conf));
    }

    @Test
    void gpuInLocalModeIsCheckedOnTheDriverWhichIsTheExecutor() {
        // Local mode has no resource scheduling: gpu 0, checked before the app starts. This
        // machine's libtorch is the CPU build, so the check fails with the reason.
        ConfigException e = assertThrows(ConfigException.class,
                () -> Sessions.checkDevice("gpu", new SparkConf(false).setMaster("local[2]")));
        assertTrue(e.getMessage().contains("no GPU scheduled by Spark (local mode), so gpu 0, but the libtorch this JVM loaded"
                + " sees no CUDA device"), e.getMessage());
        assertDoesNotThrow(() -> Sessions.checkDevice("cpu", new SparkConf(false).setMaster("spark://h:7077")));
    }
}
