package io.advspark.testing;

import io.advspark.model.TorchRuntime;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts libtorch with the test JVM's thread count (surefire's argLine, 2) before any test class
 * runs. libtorch reads its thread count once per JVM, so without this the first test class to
 * touch a tensor decided it for all others: an in-process round at {@code threads = 1} running
 * first left the parity tests, whose tolerances are measured at 2 threads, on 1. Registered for
 * every test class through {@code junit.jupiter.extensions.autodetection.enabled}.
 */
public final class PinTorchThreads implements BeforeAllCallback {
    @Override
    public void beforeAll(ExtensionContext context) {
        TorchRuntime.start(Integer.getInteger("ai.djl.pytorch.num_threads", 2));
    }
}
