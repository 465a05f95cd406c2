package io.advspark.job;

import io.advspark.attack.Attack;
import io.advspark.model.ActivationMemory;
import io.advspark.model.ModelBundle;
import io.advspark.plan.MemoryEstimate;
import io.advspark.plan.MemorySettings;
import io.advspark.plan.NamedAttack;
import io.advspark.plan.RoundConfig;
import io.advspark.util.ProcessMemory;
import io.advspark.vocabulary.ConfigException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The driver's memory check before a round starts (issue 15): one log line per attack
 * configuration with its rows in flight per executor and estimated and available memory
 * ({@link MemoryEstimate}), a warning above {@code memory.warn-fraction} and, above 100%, a
 * refusal that names the configuration and what to lower ({@code memory.check = warn} runs
 * anyway). Runs after the models loaded (their memory per row measured by
 * {@link ActivationMemory}) and before the round's folder is touched.
 */
final class MemoryCheck {
    private static final Logger LOG = LoggerFactory.getLogger(MemoryCheck.class);

    private MemoryCheck() {}

    /** The lines of the round's attack configurations (also what the tests read). */
    static List<MemoryEstimate.Line> lines(RoundConfig config, String master, SparkConf conf, List<ModelBundle> bundles,
            ActivationMemory measured, Map<String, Attack> attacks, long imagePixels) {
        List<MemoryEstimate.Surrogate> ensemble = new ArrayList<>();
        for (ModelBundle b : bundles) {
            long perRow = measured.bytesPerRow(b.uri());
            if (perRow < 0) {
                return List.of();
            }
            ensemble.add(new MemoryEstimate.Surrogate(b.card().name(), 3, b.card().inputHeight(), b.card().inputWidth(),
                    perRow, b.torchScript().length));
        }
        Map<String, String> settings = new HashMap<>();
        for (Tuple2<String, String> t : conf.getAll()) {
            settings.put(t._1(), t._2());
        }
        MemoryEstimate.Executor executor = executor(config, master, settings);
        List<MemoryEstimate.Line> out = new ArrayList<>();
        for (NamedAttack a : config.attacks()) {
            Attack attack = attacks.get(a.name());
            MemoryEstimate.Workload w = new MemoryEstimate.Workload(a.name(), config.batchSize(), attack.rowsPerImage(),
                    config.maxRows(), attack.rowsBuiltPerImage(), attack.graphRowsPerImage());
            out.add(MemoryEstimate.estimate(w, ensemble, executor, config.memory().warnFraction(), imagePixels));
        }
        return out;
    }

    /**
     * Logs the lines and refuses the round when one is above 100% and {@code memory.check} is
     * {@code refuse}; no lines when nothing could be measured (logged once).
     */
    static void run(RoundConfig config, String master, SparkConf conf, List<ModelBundle> bundles,
            ActivationMemory measured, Map<String, Attack> attacks, long imagePixels) {
        MemorySettings settings = config.memory();
        if (settings.check() == MemorySettings.Check.OFF) {
            return;
        }
        if (config.device().equals("gpu")) {
            // The probe measures host memory; a GPU's activations live on the GPU.
            LOG.info("advspark: memory check skipped: device = gpu (the estimate covers host memory on CPU executors)");
            return;
        }
        List<MemoryEstimate.Line> lines = lines(config, master, conf, bundles, measured, attacks, imagePixels);
        if (lines.isEmpty()) {
            LOG.warn("advspark: memory check skipped: the surrogates' memory per row could not be measured"
                    + " (needs Linux /proc/self/status and /proc/self/clear_refs)");
            return;
        }
        LOG.info("advspark: memory: measured per row of a forward and backward (ActivationMemory): {}",
                String.join(", ", bundles.stream().map(b -> String.format(Locale.ROOT, "%s %.2f MiB", b.card().name(),
                        measured.bytesPerRow(b.uri()) / 1048576.0)).toList()));
        List<MemoryEstimate.Line> over = new ArrayList<>();
        for (MemoryEstimate.Line l : lines) {
            switch (l.verdict()) {
                case OK -> LOG.info("advspark: memory: {}", l.describe());
                case WARN -> LOG.warn("advspark: memory: {}: above memory.warn-fraction {}; {}", l.describe(),
                        settings.warnFraction(), l.advice());
                case REFUSE -> over.add(l);
                default -> throw new IllegalStateException(l.verdict().name());
            }
        }
        if (over.isEmpty()) {
            return;
        }
        StringBuilder b = new StringBuilder();
        for (MemoryEstimate.Line l : over) {
            b.append(b.length() == 0 ? "" : "; ").append(l.describe()).append(": ").append(l.advice());
        }
        if (settings.check() == MemorySettings.Check.WARN) {
            over.forEach(l -> LOG.warn("advspark: memory: {}: above the available memory, running anyway"
                    + " (memory.check = warn); {}", l.describe(), l.advice()));
            return;
        }
        throw new ConfigException("round " + config.roundId() + " refused before any work: the estimated memory per"
                + " executor exceeds the available memory for " + over.size() + " attack config(s): " + b
                + ". memory.check = warn runs it anyway; memory.available overrides the detected memory");
    }

    /** Concurrent tasks, available memory and the process's own share, for {@code master}. */
    static MemoryEstimate.Executor executor(RoundConfig config, String master, Map<String, String> settings) {
        int cores = Runtime.getRuntime().availableProcessors();
        int tasks = MemoryEstimate.tasksPerExecutor(master, settings, cores);
        long override = config.memory().availableBytes();
        boolean local = MemoryEstimate.isLocal(master);
        long resident = Math.max(0, ProcessMemory.residentBytes());
        if (override > 0) {
            // The override is the executor's whole budget; in local mode the driver's share counts in it.
            return new MemoryEstimate.Executor(tasks, override, local ? resident : 0, "memory.available");
        }
        if (local) {
            long free = ProcessMemory.availableBytes();
            long total = ProcessMemory.totalBytes();
            if (free < 0) {
                // Not Linux: the JVM's view of the machine.
                free = physicalBytes();
                return new MemoryEstimate.Executor(tasks, free, 0, "local mode: physical memory");
            }
            return new MemoryEstimate.Executor(tasks, resident + free, resident, String.format(Locale.ROOT,
                    "local mode: this process %.2f + MemAvailable %.2f of MemTotal %.2f GiB", resident / GIB, free / GIB,
                    total / GIB));
        }
        long budget = MemoryEstimate.clusterExecutorBytes(master, settings);
        return new MemoryEstimate.Executor(tasks, budget, 0, "spark.executor.memory + memoryOverhead"
                + (settings.containsKey("spark.executor.cores") || master.startsWith("local-cluster") ? ""
                        : "; spark.executor.cores unset: 1 task per executor assumed"));
    }

    private static final double GIB = 1024.0 * 1024 * 1024;

    private static long physicalBytes() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getTotalMemorySize();
        }
        return Long.MAX_VALUE;
    }
}
