package io.advspark.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.util.List;
import org.junit.jupiter.api.Test;

/** From {@code advspark.device} and a task's Spark GPU addresses to a libtorch device. */
class DevicesTest {
    @Test
    void cpuIgnoresWhatSparkAssigned() {
        assertEquals(Device.cpu(), Devices.resolve("cpu", List.of("1"), 0));
        assertEquals(Device.cpu(), Devices.resolve("cpu", List.of(), 4));
    }

    @Test
    void gpuIsTheTasksAddressAsACudaOrdinal() {
        assertEquals(Device.gpu(1), Devices.resolve("gpu", List.of("1"), 2));
        assertEquals(Device.gpu(0), Devices.resolve("gpu", List.of("0"), 2));
        assertEquals(Device.gpu(3), Devices.resolve("gpu", List.of(" 3 "), 4));
    }

    @Test
    void severalAddressesUseTheFirst() {
        assertEquals(Device.gpu(2), Devices.resolve("gpu", List.of("2", "3"), 4));
    }

    @Test
    void noAddressesMeansLocalModeAndGpuZero() {
        assertEquals(Device.gpu(0), Devices.resolve("gpu", List.of(), 1));
    }

    @Test
    void aCpuBuildOfLibtorchIsNamedWithTheAddress() {
        Devices.DeviceException e = assertThrows(Devices.DeviceException.class, () -> Devices.resolve("gpu", List.of("1"), 0));
        assertTrue(e.getMessage().contains("Spark assigned GPU address 1, but the libtorch this JVM loaded sees no CUDA device"),
                e.getMessage());
        assertTrue(e.getMessage().contains("docs/operations.md 'GPU executors'"), e.getMessage());
        e = assertThrows(Devices.DeviceException.class, () -> Devices.resolve("gpu", List.of(), 0));
        assertTrue(e.getMessage().contains("no GPU scheduled by Spark (local mode), so gpu 0"), e.getMessage());
    }

    @Test
    void anAddressLibtorchCannotSeeIsRefused() {
        Devices.DeviceException e = assertThrows(Devices.DeviceException.class, () -> Devices.resolve("gpu", List.of("2"), 2));
        assertTrue(e.getMessage().contains("Spark assigned GPU address 2, but libtorch sees only 2 CUDA device(s) (ordinals 0..1)"),
                e.getMessage());
        assertTrue(e.getMessage().contains("CUDA_VISIBLE_DEVICES"), e.getMessage());
    }

    @Test
    void aNonNumericAddressIsRefused() {
        Devices.DeviceException e = assertThrows(Devices.DeviceException.class,
                () -> Devices.resolve("gpu", List.of("GPU-5d1c"), 2));
        assertTrue(e.getMessage().contains("Spark assigned GPU address GPU-5d1c, which is not a CUDA device ordinal"),
                e.getMessage());
        assertTrue(e.getMessage().contains("jobs/gpu-discovery"), e.getMessage());
        e = assertThrows(Devices.DeviceException.class, () -> Devices.resolve("gpu", List.of("-1"), 2));
        assertTrue(e.getMessage().contains("not a CUDA device ordinal"), e.getMessage());
    }

    @Test
    void anUnknownDeviceNameIsRefused() {
        Devices.DeviceException e = assertThrows(Devices.DeviceException.class, () -> Devices.resolve("tpu", List.of(), 0));
        assertTrue(e.getMessage().contains("advspark.device: 'tpu' is not one of [cpu, gpu]"), e.getMessage());
    }

    @Test
    void selectingTheCpuNeverStartsOnAGpu() {
        // The thread count of the test JVM (surefire's argLine): libtorch reads it once per JVM.
        int threads = Integer.getInteger("ai.djl.pytorch.num_threads", 2);
        assertEquals(Device.cpu(), Devices.select("cpu", List.of("0"), threads));
        // This machine's libtorch is the CPU build: gpu is refused with the reason.
        Devices.DeviceException e = assertThrows(Devices.DeviceException.class, () -> Devices.select("gpu", List.of("0"), threads));
        assertTrue(e.getMessage().contains("sees no CUDA device"), e.getMessage());
    }
}
