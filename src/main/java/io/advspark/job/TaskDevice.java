package io.advspark.job;

import ai.djl.Device;
import io.advspark.model.Devices;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device of the running Spark task: the GPU addresses Spark's resource scheduler put in its
 * {@link TaskContext} ({@code spark.task.resource.gpu.amount}), resolved by {@link Devices}. Each
 * task asks for itself, so one executor with several GPUs, or several tasks sharing one GPU,
 * each land on the device Spark reserved for them.
 */
final class TaskDevice {
    private static final Logger LOG = LoggerFactory.getLogger(TaskDevice.class);

    private TaskDevice() {}

    /** The GPU addresses of the running task; empty outside a task or without GPU scheduling. */
    static List<String> gpuAddresses() {
        TaskContext tc = TaskContext.get();
        if (tc == null) {
            return List.of();
        }
        Map<String, ResourceInformation> resources = tc.resourcesJMap();
        ResourceInformation gpu = resources == null ? null : resources.get("gpu");
        return gpu == null ? List.of() : List.of(gpu.addresses());
    }

    /** Starts libtorch with {@code threads} and returns the task's device for {@code configured}. */
    static Device forTask(String configured, int threads) {
        List<String> addresses = gpuAddresses();
        Device d = Devices.select(configured, addresses, threads);
        TaskContext tc = TaskContext.get();
        if (tc != null && !"cpu".equals(configured)) {
            LOG.info("advspark device: executor={} stage={} partition={} attempt={} gpu-addresses={} device={}",
                    SparkEnv.get() == null ? "driver" : SparkEnv.get().executorId(), tc.stageId(), tc.partitionId(),
                    tc.attemptNumber(), addresses, d);
        }
        return d;
    }

    /** The device as the records' {@code device} column shows it: {@code cpu} or {@code gpu:K}. */
    static String name(Device d) {
        return d.isGpu() ? "gpu:" + d.getDeviceId() : "cpu";
    }
}
