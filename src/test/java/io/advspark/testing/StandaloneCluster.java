package io.advspark.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real Spark standalone cluster on 127.0.0.1: one Master and N Workers, each its own JVM
 * started from a {@code SPARK_HOME} made of the build's jars (see {@link #sparkHome}), every
 * file it writes (logs, work dirs with the executors' logs, local dirs, temp dirs) under one
 * folder. Executors are started by the Workers, as on any standalone cluster.
 *
 * <pre>{@code
 * Path home = StandaloneCluster.sparkHome(Path.of("target"));
 * try (StandaloneCluster c = StandaloneCluster.start(new StandaloneCluster.Options(home, dir, 2, 1, "1536m", Map.of()))) {
 *     ... spark-submit --master c.masterUrl() ...
 * }
 * }</pre>
 *
 * <p>Ports are chosen free and checked before each start; Spark would silently take the next
 * port if one were taken meanwhile, so the daemons run with {@code spark.port.maxRetries=0}
 * (a taken port makes them exit) and each start is checked against the port it logs.
 */
public final class StandaloneCluster implements AutoCloseable {
    /**
     * Jars of target/lib that a Spark distribution does not carry: the application's own
     * dependencies, which jobs/advspark ships with {@code --jars} (DJL and libtorch, Typesafe
     * config, picocli, hadoop-aws and the AWS SDK, JNA, Gson). Leaving them out of SPARK_HOME
     * makes the executors depend on the launcher's shipping, as on a real cluster.
     */
    public static final List<String> APPLICATION_JAR_PREFIXES = List.of("api-", "pytorch-", "config-", "picocli-",
            "hadoop-aws-", "aws-java-sdk-bundle-", "jna-", "gson-");

    /**
     * @param sparkHome a folder with {@code jars/}
     * @param dir where every file of the cluster goes (must be unique to the test run)
     * @param workers number of Workers
     * @param cores cores per Worker
     * @param memory memory per Worker for executors ({@code --memory}, e.g. "1536m")
     * @param env extra environment of the daemons, inherited by the executors (e.g. what a
     *     node's credential provider would supply)
     */
    public record Options(Path sparkHome, Path dir, int workers, int cores, String memory, Map<String, String> env,
            int masterPort, Map<String, String> workerProperties, boolean distinctHosts) {
        public Options(Path sparkHome, Path dir, int workers, int cores, String memory, Map<String, String> env) {
            this(sparkHome, dir, workers, cores, memory, env, 0, Map.of(), false);
        }

        /** The same with the Master on {@code port} (0: a free port chosen at start). */
        public Options withMasterPort(int port) {
            return new Options(sparkHome, dir, workers, cores, memory, env, port, workerProperties, distinctHosts);
        }

        /**
         * The same with Spark properties for every Worker JVM, e.g. {@code spark.worker.resource.gpu.amount}
         * and its discovery script.
         */
        public Options withWorkerProperties(Map<String, String> props) {
            return new Options(sparkHome, dir, workers, cores, memory, env, masterPort, Map.copyOf(props), distinctHosts);
        }

        /**
         * The same with Worker i (from 1) and its executors on loopback address 127.0.0.i, so Spark
         * sees one host per Worker: it never runs two attempts of a task on one host, so
         * speculative copies need this.
         */
        public Options withDistinctWorkerHosts() {
            return new Options(sparkHome, dir, workers, cores, memory, env, masterPort, workerProperties, true);
        }

        String workerHost(int i) {
            return distinctHosts ? "127.0.0." + i : "127.0.0.1";
        }
    }

    private static final Pattern STARTED = Pattern.compile("Successfully started service '([^']+)' on port (\\d+)");

    private final Options options;
    private final JvmDaemon master;
    private final List<JvmDaemon> workers;
    private final List<Path> workDirs;
    private final int masterPort;

    private StandaloneCluster(Options options, JvmDaemon master, int masterPort, List<JvmDaemon> workers, List<Path> workDirs) {
        this.options = options;
        this.master = master;
        this.masterPort = masterPort;
        this.workers = workers;
        this.workDirs = workDirs;
    }

    /**
     * {@code <buildDir>/spark-home/jars}: links to the jars of {@code <buildDir>/lib} (the
     * build's runtime dependencies, which include Spark with its deploy classes) except
     * {@link #APPLICATION_JAR_PREFIXES}. Rebuilt on every call, cheaply (symbolic links).
     */
    public static Path sparkHome(Path buildDir) throws IOException {
        Path lib = buildDir.resolve("lib").toAbsolutePath();
        if (!Files.isDirectory(lib)) {
            throw new IllegalStateException(lib + " missing: run mvn package first");
        }
        Path home = buildDir.resolve("spark-home").toAbsolutePath();
        Path jars = home.resolve("jars");
        if (Files.isDirectory(jars)) {
            try (Stream<Path> s = Files.list(jars)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(jars);
        int n = 0;
        try (Stream<Path> s = Files.list(lib)) {
            for (Path j : s.sorted().toList()) {
                String name = j.getFileName().toString();
                if (name.endsWith(".jar") && APPLICATION_JAR_PREFIXES.stream().noneMatch(name::startsWith)) {
                    Files.createSymbolicLink(jars.resolve(name), j);
                    n++;
                }
            }
        }
        if (n == 0 || !Files.exists(jars.resolve(sparkCoreJar(jars)))) {
            throw new IllegalStateException("no Spark jars in " + lib);
        }
        return home;
    }

    private static String sparkCoreJar(Path jars) throws IOException {
        try (Stream<Path> s = Files.list(jars)) {
            return s.map(p -> p.getFileName().toString()).filter(f -> f.startsWith("spark-core_")).findFirst()
                    .orElse("spark-core_2.12 (missing)");
        }
    }

    /** Environment of every daemon (and, through the Workers, of every executor). */
    public static Map<String, String> daemonEnv(Options o) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SPARK_HOME", o.sparkHome().toString());
        env.put("SPARK_SCALA_VERSION", "2.12"); // else executors fail: "Cannot find any build directories"
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.put("DJL_OFFLINE", "true");
        env.put("OPT_OUT_TRACKING", "true");
        env.put("AWS_EC2_METADATA_DISABLED", "true");
        env.putAll(o.env());
        return env;
    }

    /**
     * Starts the Master, waits for "I have been elected leader", then the Workers, and waits until
     * each logs "Successfully registered with master". Everything started is stopped if a step fails.
     */
    public static StandaloneCluster start(Options o) throws Exception {
        Path dir = Files.createDirectories(o.dir());
        JvmDaemon master = null;
        List<JvmDaemon> workers = new ArrayList<>();
        try {
            int port = o.masterPort() > 0 ? o.masterPort() : checkedFreePort();
            if (!S3ProxyServer.isPortFree(port)) {
                throw new IllegalStateException("cannot start the Spark master: 127.0.0.1:" + port + " is in use");
            }
            int uiPort = checkedFreePort(Set.of(port));
            master = daemon(o, "master", "127.0.0.1", Map.of(), List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                    "--port", Integer.toString(port), "--webui-port", Integer.toString(uiPort)), dir.resolve("master"));
            master.awaitLine(Pattern.compile("I have been elected leader"), 90);
            checkPorts(master, Map.of("sparkMaster", port, "MasterUI", uiPort));
            String url = "spark://127.0.0.1:" + port;
            List<Path> workDirs = new ArrayList<>();
            List<Map<String, Integer>> ports = new ArrayList<>();
            Set<Integer> taken = new java.util.HashSet<>(Set.of(port, uiPort));
            for (int i = 1; i <= o.workers(); i++) {
                Path wdir = dir.resolve("worker-" + i);
                Path work = Files.createDirectories(wdir.resolve("work"));
                int wport = checkedFreePort(taken);
                taken.add(wport);
                int wui = checkedFreePort(taken);
                taken.add(wui);
                workDirs.add(work);
                ports.add(Map.of("sparkWorker", wport, "WorkerUI", wui));
                workers.add(daemon(o, "worker-" + i, o.workerHost(i), o.workerProperties(), List.of("org.apache.spark.deploy.worker.Worker", "--host", o.workerHost(i),
                        "--port", Integer.toString(wport), "--webui-port", Integer.toString(wui),
                        "--cores", Integer.toString(o.cores()), "--memory", o.memory(), "--work-dir", work.toString(), url),
                        wdir));
            }
            for (int i = 0; i < workers.size(); i++) {
                workers.get(i).awaitLine(Pattern.compile("Successfully registered with master " + Pattern.quote(url)), 120);
                checkPorts(workers.get(i), ports.get(i));
            }
            return new StandaloneCluster(o, master, port, workers, workDirs);
        } catch (Exception | Error e) {
            for (JvmDaemon w : workers) {
                w.close();
            }
            if (master != null) {
                master.close();
            }
            throw e;
        }
    }

    private static JvmDaemon daemon(Options o, String name, String host, Map<String, String> props, List<String> mainAndArgs,
            Path dir) throws IOException {
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        Path local = Files.createDirectories(dir.resolve("local"));
        Map<String, String> env = daemonEnv(o);
        env.put("SPARK_LOCAL_DIRS", local.toString()); // executors' block manager and shuffle dirs
        env.put("SPARK_LOCAL_IP", host); // the daemon's and its executors' address
        List<String> cmd = new ArrayList<>();
        cmd.add(JvmDaemon.java());
        cmd.addAll(JvmDaemon.SPARK_JVM_FLAGS);
        cmd.add("-Xmx256m");
        cmd.add("-Djava.io.tmpdir=" + tmp);
        cmd.add("-Dspark.port.maxRetries=0"); // a taken port is an error, not a silent move to the next
        props.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.add("-cp");
        cmd.add(o.sparkHome().resolve("jars") + "/*");
        cmd.addAll(mainAndArgs);
        return JvmDaemon.start(name, cmd, env, dir, dir.resolve(name + ".log"));
    }

    /** Each service must have started on the port it was given. */
    private static void checkPorts(JvmDaemon d, Map<String, Integer> expected) {
        for (Map.Entry<String, Integer> e : expected.entrySet()) {
            Matcher m = d.awaitLine(Pattern.compile("Successfully started service '" + Pattern.quote(e.getKey())
                    + "' on port (\\d+)"), 30);
            int actual = Integer.parseInt(m.group(1));
            if (actual != e.getValue()) {
                throw new IllegalStateException(d.name() + ": service " + e.getKey() + " started on port " + actual
                        + " instead of " + e.getValue() + " (port taken meanwhile)");
            }
        }
    }

    private static int checkedFreePort() {
        return checkedFreePort(Set.of());
    }

    private static int checkedFreePort(Set<Integer> avoid) {
        for (int i = 0; i < 20; i++) {
            int p = S3ProxyServer.freePort();
            if (!avoid.contains(p) && S3ProxyServer.isPortFree(p)) {
                return p;
            }
        }
        throw new IllegalStateException("no free port on 127.0.0.1");
    }

    public String masterUrl() {
        return "spark://127.0.0.1:" + masterPort;
    }

    public Options options() {
        return options;
    }

    public JvmDaemon master() {
        return master;
    }

    public List<JvmDaemon> workers() {
        return workers;
    }

    /** Every daemon's PID (Master first). */
    public List<Long> pids() {
        List<Long> p = new ArrayList<>();
        p.add(master.pid());
        workers.forEach(w -> p.add(w.pid()));
        return p;
    }

    /** The Workers' work dirs: {@code <app-id>/<executor-id>/stderr} are the executors' logs. */
    public List<Path> workDirs() {
        return workDirs;
    }

    /** Executor id -> its stderr log, over every Worker (for one application, or all if null). */
    public Map<String, Path> executorLogs(String appId) throws IOException {
        Map<String, Path> out = new java.util.TreeMap<>();
        for (Path work : workDirs) {
            try (Stream<Path> apps = Files.list(work)) {
                for (Path app : apps.filter(Files::isDirectory).toList()) {
                    if (appId != null && !app.getFileName().toString().equals(appId)) {
                        continue;
                    }
                    try (Stream<Path> execs = Files.list(app)) {
                        for (Path e : execs.filter(Files::isDirectory).toList()) {
                            if (Files.exists(e.resolve("stderr"))) {
                                out.put(e.getFileName().toString(), e.resolve("stderr"));
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Application ids that ran executors on any Worker. */
    public List<String> applications() throws IOException {
        Set<String> out = new java.util.TreeSet<>();
        for (Path work : workDirs) {
            try (Stream<Path> apps = Files.list(work)) {
                apps.filter(Files::isDirectory).forEach(a -> out.add(a.getFileName().toString()));
            }
        }
        return List.copyOf(out);
    }

    /**
     * Stops the Workers (their executors with them), then the Master, each by its PID: SIGTERM,
     * then SIGKILL after a grace period. Returns the PIDs that had to be killed forcibly.
     */
    @Override
    public void close() {
        List<Long> forced = new ArrayList<>();
        for (JvmDaemon w : workers) {
            forced.addAll(w.stop(20));
        }
        forced.addAll(master.stop(20));
        if (!forced.isEmpty()) {
            System.out.println("StandaloneCluster: killed forcibly after the grace period: " + forced);
        }
    }
}
