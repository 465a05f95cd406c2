package io.advspark.job;

import io.advspark.plan.RoundConfig;
import io.advspark.util.Secrets;
import io.advspark.vocabulary.ConfigException;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** Builds the SparkSession of a round with the settings every advspark JVM needs. */
public final class Sessions {
    private static final Pattern LOCAL = Pattern.compile("local\\[(\\*|\\d+)(?:,\\d+)?]|local");

    private Sessions() {}

    /**
     * Environment that executors need: DJL offline (otherwise the engine start calls home), no EC2
     * metadata probing by the AWS SDK, and at most 2 glibc malloc arenas. The last because
     * executors run hundreds of Spark threads and glibc gives threads up to 8 arenas per core;
     * libtorch's tensor memory then fragments across them and resident memory creeps up in steps
     * (YARN containers get the same setting from Hadoop). Measured with jobs/bench-soak
     * ({@code io.advspark.bench.SoakBench}). Each is a default: {@code spark.executorEnv.<NAME>} in the round's
     * {@code spark.conf} wins.
     */
    public static final Map<String, String> EXECUTOR_ENV = Map.of(
            "DJL_OFFLINE", "true",
            "OPT_OUT_TRACKING", "true",
            "AWS_EC2_METADATA_DISABLED", "true",
            "MALLOC_ARENA_MAX", "2");

    /**
     * libtorch threads per JVM. With {@code threads = 0} in local mode the cores are shared
     * between concurrent tasks (local[k] runs k tasks, each gets cores/k threads) instead of
     * oversubscribing them.
     */
    public static int effectiveThreads(RoundConfig config, String master) {
        if (config.threads() > 0) {
            return config.threads();
        }
        int cores = Runtime.getRuntime().availableProcessors();
        Matcher m = LOCAL.matcher(master == null ? "" : master);
        if (m.matches()) {
            int slots = m.group(1) == null ? 1 : m.group(1).equals("*") ? cores : Integer.parseInt(m.group(1));
            return Math.max(1, cores / Math.max(1, slots));
        }
        return 0;
    }

    /**
     * In local mode the driver is the executor, so a paused process (SIGSTOP, a laptop that
     * sleeps) is not a lost executor; with Spark's default (spark.network.timeout, 120 s) the
     * resumed driver removes its own executor, logs a stack trace per pending message, and a
     * round paused for 42 minutes died at shutdown. Seven days instead; a round's own setting wins.
     */
    static final String LOCAL_HEARTBEAT_TIMEOUT = "spark.storage.blockManagerHeartbeatTimeoutMs";
    static final String LOCAL_HEARTBEAT_TIMEOUT_MS = "604800000";

    /** Settings for reading a round's tables: attack names are strings even when they look like numbers ("attack=8"). */
    private static SparkConf readsTables(SparkConf conf) {
        return conf.setIfMissing("spark.sql.sources.partitionColumnTypeInference.enabled", "false");
    }

    /**
     * Spark's redaction (event log, UI, logged launch commands) extended to advspark's credential
     * rule ({@link Secrets}): Spark's default misses e.g. {@code fs.s3a.encryption.key} and
     * {@code fs.azure.account.key.<account>}. A regex set by the user is kept beside ours.
     */
    static SparkConf redacts(SparkConf conf) {
        String rule = Secrets.SPARK_REDACTION_REGEX;
        String own = conf.get("spark.redaction.regex", null);
        return conf.set("spark.redaction.regex", own == null || own.contains(rule) ? rule : "(?:" + own + ")|(?:" + rule + ")");
    }

    /** A session that only reads a round's tables ({@code advspark report} without a round file). */
    public static SparkSession reader(String master) {
        SparkConf conf = redacts(readsTables(new SparkConf(true).setIfMissing("spark.app.name", "advspark report")))
                .setIfMissing("spark.ui.enabled", "false");
        return SparkSession.builder().master(master).config(conf).getOrCreate();
    }

    /**
     * The Hadoop configuration a session for {@code config} (or, with null, a bare reader) would
     * give its tasks, without starting one: Hadoop's defaults, then every {@code spark.hadoop.*}
     * property of the JVM's Spark properties and of the round's {@code spark.conf}, as Spark copies
     * them. For commands that read a finished round's tables in a second ({@code report}).
     */
    public static org.apache.hadoop.conf.Configuration hadoopConf(RoundConfig config) {
        org.apache.hadoop.conf.Configuration hadoop = new org.apache.hadoop.conf.Configuration();
        SparkConf conf = new SparkConf(true);
        if (config != null) {
            config.sparkConf().forEach(conf::set);
        }
        for (scala.Tuple2<String, String> e : conf.getAll()) {
            if (e._1().startsWith("spark.hadoop.")) {
                hadoop.set(e._1().substring("spark.hadoop.".length()), e._2());
            }
        }
        return hadoop;
    }

    /**
     * A session for the round. {@code master} may be null when spark-submit already set it.
     */
    public static SparkSession create(RoundConfig config, String master) {
        return create(config, master, Map.of());
    }

    /**
     * A session for the round with extra Spark properties that do not belong in a round file,
     * e.g. {@code spark.hadoop.fs.s3a.*} credentials handed over in-process. They win over the
     * round's {@code spark.conf}.
     */
    public static SparkSession create(RoundConfig config, String master, Map<String, String> extraConf) {
        SparkConf conf = new SparkConf(true);
        if (master != null) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster(config.sparkMaster());
        }
        conf.setIfMissing("spark.app.name", config.sparkAppName() + " " + config.roundId());
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        conf.setIfMissing("spark.sql.parquet.compression.codec", "snappy");
        readsTables(conf);
        for (Map.Entry<String, String> e : EXECUTOR_ENV.entrySet()) {
            conf.setIfMissing("spark.executorEnv." + e.getKey(), e.getValue());
        }
        for (Map.Entry<String, String> e : config.sparkConf().entrySet()) {
            conf.set(e.getKey(), e.getValue());
        }
        for (Map.Entry<String, String> e : extraConf.entrySet()) {
            conf.set(e.getKey(), e.getValue());
        }
        if (conf.get("spark.master", "").startsWith("local")) {
            conf.setIfMissing(LOCAL_HEARTBEAT_TIMEOUT, LOCAL_HEARTBEAT_TIMEOUT_MS);
        }
        redacts(conf);
        checkDevice(config.device(), conf);
        return SparkSession.builder().config(conf).getOrCreate();
    }

    /**
     * Fails before the application starts when {@code advspark.device = gpu} on a cluster whose
     * tasks Spark would give no GPU (every task would then pile onto gpu 0 of its executor, or fail
     * on a node without one), or in local mode when this JVM's libtorch cannot reach gpu 0 (the
     * driver is the executor there); warns when GPUs are reserved for tasks that compute on the CPU.
     */
    static void checkDevice(String device, SparkConf conf) {
        String master = conf.get("spark.master", "local[*]");
        boolean local = master.startsWith("local");
        boolean taskGpus = conf.contains("spark.task.resource.gpu.amount");
        if ("gpu".equals(device) && local) {
            try {
                io.advspark.model.Devices.select(device, java.util.List.of(), 0);
            } catch (io.advspark.model.Devices.DeviceException e) {
                throw new ConfigException(e.getMessage(), e);
            }
        }
        if ("gpu".equals(device) && !local && !taskGpus) {
            throw new ConfigException("advspark.device = gpu on " + master + ", but spark.task.resource.gpu.amount is not"
                    + " set, so Spark assigns no GPU to any task. Set spark.executor.resource.gpu.amount (GPUs per"
                    + " executor), spark.task.resource.gpu.amount (1, or 0.5 to share a GPU between two tasks) and"
                    + " spark.executor.resource.gpu.discoveryScript (jobs/gpu-discovery); see docs/operations.md 'GPU executors'");
        }
        if ("cpu".equals(device) && taskGpus) {
            org.slf4j.LoggerFactory.getLogger(Sessions.class).warn("advspark: spark.task.resource.gpu.amount is set but"
                    + " advspark.device = cpu: the GPUs Spark reserves for each task stay idle");
        }
    }
}
