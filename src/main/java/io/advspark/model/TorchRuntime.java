package io.advspark.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts DJL's PyTorch engine once per JVM, offline, with the configured thread count. Every
 * entry point (job, executor, test, notebook) goes through here before touching a tensor.
 */
public final class TorchRuntime {
    private static final Logger LOG = LoggerFactory.getLogger(TorchRuntime.class);
    private static final AtomicBoolean STARTED = new AtomicBoolean();
    private static volatile int STARTED_THREADS;

    /** DJL's name of the engine advspark computes with: the one place it is spelled. */
    public static final String ENGINE = "PyTorch";

    private TorchRuntime() {}

    /** A root manager of tensors on {@code device}, on advspark's engine. */
    public static NDManager newManager(Device device) {
        return NDManager.newBaseManager(device, ENGINE);
    }

    /**
     * Starts the engine.
     *
     * @param threads libtorch intra-op threads; 0 keeps DJL's default (the core count). Read
     *     once per JVM: later calls with another value are ignored with a warning.
     */
    public static synchronized Engine start(int threads) {
        if (STARTED.get()) {
            if (threads > 0 && !String.valueOf(threads).equals(System.getProperty("ai.djl.pytorch.num_threads"))) {
                LOG.warn("libtorch already started with num_threads={}; ignoring request for {}",
                        System.getProperty("ai.djl.pytorch.num_threads"), threads);
            }
            return Engine.getEngine(ENGINE);
        }
        // Without these the engine start calls home (instance metadata, tracking).
        if (System.getenv("DJL_OFFLINE") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        System.setProperty("OPT_OUT_TRACKING", "true");
        if (threads > 0) {
            System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(threads));
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
        Engine engine = Engine.getEngine(ENGINE);
        STARTED.set(true);
        STARTED_THREADS = threads > 0 ? threads : Integer.getInteger("ai.djl.pytorch.num_threads", 0);
        LOG.info("libtorch {} started (threads={})", engine.getVersion(),
                System.getProperty("ai.djl.pytorch.num_threads", "default"));
        return engine;
    }

    /**
     * The intra-op thread count libtorch was started with in this JVM (0: DJL's default, the
     * core count); starts it with {@code ifNotStarted} threads first if nothing has. Thread counts
     * are read once per JVM, so a comparison with another implementation must use this count,
     * not the one it asked for.
     */
    public static int threads(int ifNotStarted) {
        start(ifNotStarted);
        return STARTED_THREADS;
    }
}
