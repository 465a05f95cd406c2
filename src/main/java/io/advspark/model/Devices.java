package io.advspark.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.List;

/**
 * Which libtorch device a task computes on, from the configured {@code advspark.device} and the
 * GPU addresses Spark's resource scheduler gave the task.
 *
 * <p>{@code cpu}: always the CPU, whatever the task was given. {@code gpu}: the FIRST address
 * of the task's {@code gpu} resource, as a CUDA ordinal ({@code spark.task.resource.gpu.amount}
 * = 1 gives one address per task; a fraction such as 0.5 lets two tasks share one address,
 * which is safe: see {@link Autograd}). A task given several addresses uses the first one: one
 * attack batch runs on one device. Without addresses (local mode, where Spark schedules no
 * resources) every task uses {@code gpu(0)}.
 *
 * <p>The address must be an ordinal libtorch can see: Spark's discovery script
 * ({@code jobs/gpu-discovery}) reports {@code nvidia-smi} indices, which are CUDA ordinals as long
 * as the executor's {@code CUDA_VISIBLE_DEVICES} is unset. A CPU build of libtorch sees no CUDA
 * devices at all; that is reported here, before any model is loaded, rather than as a native
 * error deep in a forward pass.
 */
public final class Devices {
    /** The values {@code advspark.device} accepts. */
    public static final List<String> NAMES = List.of("cpu", "gpu");

    private Devices() {}

    /** Thrown when a task cannot be put on the device it asked for. */
    public static final class DeviceException extends IllegalStateException {
        public DeviceException(String message) {
            super(message);
        }
    }

    /**
     * @param configured {@code cpu} or {@code gpu}
     * @param gpuAddresses the task's {@code gpu} resource addresses (empty: none scheduled)
     * @param cudaDevices how many CUDA devices libtorch sees ({@link #cudaDeviceCount()})
     */
    public static Device resolve(String configured, List<String> gpuAddresses, int cudaDevices) {
        if ("cpu".equals(configured)) {
            return Device.cpu();
        }
        if (!"gpu".equals(configured)) {
            throw new DeviceException("advspark.device: '" + configured + "' is not one of " + NAMES);
        }
        String address = gpuAddresses.isEmpty() ? "0" : gpuAddresses.get(0).trim();
        String given = gpuAddresses.isEmpty() ? "no GPU scheduled by Spark (local mode), so gpu 0"
                : "Spark assigned GPU address" + (gpuAddresses.size() > 1 ? "es " + gpuAddresses + ", the first is " : " ")
                        + address;
        int ordinal;
        try {
            ordinal = Integer.parseInt(address);
        } catch (NumberFormatException e) {
            throw new DeviceException("advspark.device = gpu: " + given + ", which is not a CUDA device ordinal."
                    + " The discovery script must print indices as nvidia-smi does (jobs/gpu-discovery)");
        }
        if (ordinal < 0) {
            throw new DeviceException("advspark.device = gpu: " + given + ", which is not a CUDA device ordinal");
        }
        if (cudaDevices == 0) {
            throw new DeviceException("advspark.device = gpu: " + given + ", but the libtorch this JVM loaded sees no"
                    + " CUDA device (" + flavour() + "). Run with DJL's CUDA build of libtorch: see docs/operations.md 'GPU executors'");
        }
        if (ordinal >= cudaDevices) {
            throw new DeviceException("advspark.device = gpu: " + given + ", but libtorch sees only " + cudaDevices
                    + " CUDA device(s) (ordinals 0.." + (cudaDevices - 1) + "). Is CUDA_VISIBLE_DEVICES set on the"
                    + " executors? Spark's addresses must be CUDA ordinals");
        }
        return Device.gpu(ordinal);
    }

    /**
     * The device of a task: starts libtorch with {@code threads} first (thread counts are read
     * once per JVM), then {@link #resolve}s against the CUDA devices it sees.
     */
    public static Device select(String configured, List<String> gpuAddresses, int threads) {
        if ("cpu".equals(configured)) {
            return Device.cpu();
        }
        Engine e = TorchRuntime.start(threads);
        return resolve(configured, gpuAddresses, e.getGpuCount());
    }

    /** What names the libtorch build: DJL's {@code PYTORCH_FLAVOR}, or how DJL chose it. */
    static String flavour() {
        String flavor = System.getenv("PYTORCH_FLAVOR");
        return flavor == null ? "PYTORCH_FLAVOR unset: the build on the classpath, pytorch-native-cpu by default"
                : "PYTORCH_FLAVOR=" + flavor;
    }
}
