package io.advspark.cli;

import io.advspark.job.AttackJob;
import io.advspark.job.EvaluateJob;
import io.advspark.job.Sessions;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.ConfigLoader;
import io.advspark.plan.RoundConfig;
import io.advspark.vocabulary.ConfigException;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** The {@code advspark} command line. */
@Command(
        name = "advspark",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        description = {"Transfer-based adversarial examples at cluster scale.",
            "Run `advspark help COMMAND` (or COMMAND --help) for a command's options; docs/ holds the reference."},
        subcommands = {Main.Init.class, Main.Attack.class, Main.Evaluate.class, Main.Report.class, Main.Devices.class,
            CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {

    /** {@code --version}: the one version string of {@link io.advspark.util.Version}. */
    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"advspark " + io.advspark.util.Version.VERSION};
        }
    }
    /** Exit code of a configuration error (bad key, value, manifest, model, unreachable store). */
    public static final int EXIT_CONFIG = 2;
    /** Exit code of a write failure (disk full, read-only or forbidden store, store errors after retries). */
    public static final int EXIT_WRITE = 3;
    /** Exit code when another launcher holds the round's writer lease, or this one lost it. */
    public static final int EXIT_BUSY = 4;

    public static void main(String[] args) {
        logLevels(java.util.Arrays.asList(args));
        int code = new CommandLine(new Main())
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    if (e instanceof ConfigException) {
                        // The last guard: a message quoting a URI or key=value never shows a credential.
                        cmd.getErr().println("advspark: " + io.advspark.util.Secrets.redactText(e.getMessage()));
                        return e instanceof io.advspark.round.RoundBusyException ? EXIT_BUSY : EXIT_CONFIG;
                    }
                    if (e instanceof WriteFailure w) {
                        cmd.getErr().println(w.report());
                        return EXIT_WRITE;
                    }
                    throw e;
                })
                .execute(args);
        System.exit(code);
    }

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return 0;
    }

    /**
     * {@code --quiet} and {@code --verbose} act on logging, which starts before picocli parses the
     * command line: read here and handed to log4j2.properties as system properties.
     */
    static void logLevels(List<String> args) {
        boolean quiet = args.contains("--quiet") || args.contains("-q");
        boolean verbose = args.contains("--verbose") || args.contains("-v");
        if (quiet && verbose) {
            return; // picocli reports the conflict
        }
        if (quiet) {
            System.setProperty("advspark.console.level", "warn");
        } else if (verbose) {
            System.setProperty("advspark.log.level", "debug");
            System.setProperty("advspark.root.level", "info");
        }
    }

    /** {@code --quiet} / {@code --verbose}, shared by every command (acted on by {@link #logLevels}). */
    public static final class Verbosity {
        @Option(names = {"-q", "--quiet"}, description = "Only warnings and errors on the terminal, besides the results"
                + " (the log file keeps everything).")
        boolean quiet;

        @Option(names = {"-v", "--verbose"}, description = "Debug logging of advspark and Spark's INFO lines.")
        boolean verbose;

        void check() {
            if (quiet && verbose) {
                throw new ConfigException("--quiet and --verbose exclude each other");
            }
        }
    }

    /** {@code advspark init}: a starter round file for a dataset folder and model files. */
    @Command(
            name = "init",
            mixinStandardHelpOptions = true,
            header = "Write a starter round file for your dataset folder and models, every key commented.",
            description = {
                "Checks the dataset folder (dev.csv and images/, or class folders) and the models (each .pt with its .json card), reads the",
                "label convention off the labels, and writes a round file that runs as written: two attack configs (MI and",
                "MI-DI-TI at eps 16) on the surrogates, scored on the targets plain and behind jpeg(75) and bits(4).",
                "Paths in the file are relative to its folder, so it runs from anywhere."
            })
    public static final class Init implements Callable<Integer> {
        @Option(names = {"-d", "--data"}, required = true, paramLabel = "DIR", description = "The dataset folder: dev.csv"
                + " (ImageId,TrueLabel,TargetClass) and images/<ImageId>, or class folders <class>/<file> (ImageFolder).")
        java.nio.file.Path data;

        @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE.pt", description = "A surrogate (attacked)."
                + " Repeatable.")
        List<java.nio.file.Path> surrogates = new ArrayList<>();

        @Option(names = {"-t", "--target"}, paramLabel = "FILE.pt", description = "A held-out target (scored). Repeatable.")
        List<java.nio.file.Path> targets = new ArrayList<>();

        @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "The round file to write (default: round.conf).")
        java.nio.file.Path output = java.nio.file.Path.of("round.conf");

        @Option(names = "--force", description = "Replace an existing file.")
        boolean force;

        @Override
        public Integer call() throws java.io.IOException {
            io.advspark.plan.RoundTemplate.Written w = io.advspark.plan.RoundTemplate.write(
                    new io.advspark.plan.RoundTemplate.Inputs(output, data, surrogates, targets), force);
            System.out.println("advspark: wrote " + w.file() + " (" + w.rows() + " images, label-base " + w.labelBase() + ", "
                    + w.classes() + " classes" + (targets.isEmpty() ? "; no target: add one to get a leaderboard" : "") + ")");
            if (!w.note().isEmpty()) {
                System.out.println("advspark: " + w.note());
            }
            System.out.println("advspark: next: jobs/advspark attack -c " + w.file());
            return 0;
        }
    }

    /** {@code advspark attack}: runs one attack round. */
    @Command(
            name = "attack",
            mixinStandardHelpOptions = true,
            header = "Attack a round's images with its attack configs; score them on its targets; print the leaderboard.",
            description = {
                "Runs an attack round: every attack config of the round over its images, writing",
                "<output>/<round>/images/<attack>/*.png and <output>/<round>/records (Parquet, partitioned by attack).",
                "A rerun resumes: images committed by an earlier run are skipped (--force redoes everything).",
                "Without --config it runs the embedded demo round on the repository's demo/ set."
            })
    public static final class Attack implements Callable<Integer> {
        @Mixin
        RoundOptions round;

        @Option(names = "--no-evaluate", description = "Do not run `evaluate` after the attack even when the round lists targets (run it later with `advspark evaluate`).")
        boolean noEvaluate;

        @Option(names = "--check", description = "Validate the configuration, manifest and models, then stop.")
        boolean check;

        @Option(names = "--force", description = "Delete the round's outputs (images, records, evaluation tables) first and redo everything, instead of resuming. Refused on a folder that is not an advspark round or holds files advspark did not write.")
        boolean force;

        @Option(names = "--take-over", description = "Take the round's writer lease even though another launcher holds it (use only when that launcher is dead: a lease expires by itself after advspark.round.lease-seconds, at once when its process on this host is gone).")
        boolean takeOver;

        @Option(names = "--verify", description = "When resuming, also read every committed PNG of the round's attacks, check it against the CRC32C its record holds and decode it (a plain resume checks that each PNG is there with its recorded length); damaged ones are redone.")
        boolean verify;

        @Override
        public Integer call() {
            return round.run(this::finished, (cfg, spark) -> {
                if (check) {
                    long bad = AttackJob.check(cfg, spark);
                    System.out.println("advspark: configuration, manifest and models are valid" + (bad == 0 ? ""
                            : "; " + bad + " manifest row(s) are unusable and would be recorded as failed (see the warning above)"));
                    return 0;
                }
                AttackJob.run(cfg, spark, new AttackJob.Options(force, takeOver, verify), s -> {
                    // The time a user waited: from the JVM's start (Spark's start-up included) to the summary.
                    System.out.println(s.withSeconds((System.currentTimeMillis()
                            - java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime()) / 1e3).render());
                    if (!cfg.targets().isEmpty() && !noEvaluate) {
                        // The round holds out targets: score the written PNGs on them right away.
                        System.out.println(EvaluateJob.run(cfg, spark).render());
                        System.out.print(io.advspark.job.ReportJob.run(spark.sparkContext().hadoopConfiguration(),
                                cfg.roundUri(), Report.DEFAULT_METRIC, "table", true));
                    }
                });
                return 0;
            });
        }

        /** A finished (and evaluated) round's rerun: said, with its summary and leaderboard, in seconds and without Spark. */
        private Integer finished(RoundConfig cfg) {
            if (check || force || verify) {
                return null;
            }
            org.apache.hadoop.conf.Configuration hadoop = io.advspark.job.Sessions.hadoopConf(cfg);
            long jvmStart = java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
            var state = io.advspark.job.FinishedRound.of(cfg, hadoop, jvmStart);
            boolean evaluate = !cfg.targets().isEmpty() && !noEvaluate;
            if (state.isEmpty() || evaluate && !state.get().evaluated()) {
                return null;
            }
            System.out.println("advspark: round " + cfg.roundId() + " is complete" + (evaluate ? " and its evaluation is up to date"
                    : "") + ": nothing to do (--force redoes it)");
            System.out.println(state.get().summary().render());
            if (evaluate) {
                System.out.print(io.advspark.job.ReportJob.run(hadoop, cfg.roundUri(), Report.DEFAULT_METRIC, "table", true));
            }
            return 0;
        }
    }

    /** {@code advspark evaluate}: scores a round's written PNGs on its (defended) target models. */
    @Command(
            name = "evaluate",
            mixinStandardHelpOptions = true,
            header = "Score a round's PNGs (or another tool's, --adv-images) on its defended targets.",
            description = {
                "Scores the PNGs an attack round wrote on the round's target models (role = target), each behind its",
                "defense chains; writes <output>/<round>/{predictions,scores,summary} (Parquet).",
                "Runs automatically at the end of `attack` when the round lists targets."
            })
    public static final class Evaluate implements Callable<Integer> {
        @Mixin
        RoundOptions round;

        @Option(names = "--take-over", description = "Take the round's writer lease even though another launcher holds it (see attack --take-over).")
        boolean takeOver;

        @Option(names = "--adv-images", paramLabel = "DIR_OR_URI", description = {
            "Score a folder of adversarial PNGs that advspark did not write (another tool's output, a competition",
            "submission): one <ImageId> file per row of the round's manifest (dataset.*), scored against the clean",
            "images like a round's PNGs, on the round's targets; the tables go to <output>/<round id>. Missing,",
            "extra, wrong-size or undecodable PNGs are listed, not fatal; a PNG over the score's eps scores 0."})
        String advImages;

        @Option(names = "--name", paramLabel = "NAME", description = "The attack name of --adv-images in the tables (default: external).")
        String name = "external";

        @Option(names = "--force", description = "Score again even when the evaluation tables are up to date (same records, targets, defenses and score).")
        boolean force;

        @Override
        public Integer call() {
            return round.run(cfg -> upToDate(cfg), (cfg, spark) -> {
                EvaluateJob.Foreign foreign = null;
                if (advImages != null) {
                    String problem = io.advspark.vocabulary.Names.problem(name);
                    if (problem != null) {
                        throw new ConfigException("--name '" + name + "' " + problem);
                    }
                    foreign = new EvaluateJob.Foreign(
                            io.advspark.plan.ConfigLoader.absoluteUri(advImages, "--adv-images"), name);
                }
                System.out.println(EvaluateJob.run(cfg, spark, takeOver, foreign).render());
                return 0;
            });
        }

        /** An evaluation of the same records on the same targets: said, with the leaderboard, without Spark. */
        private Integer upToDate(RoundConfig cfg) {
            if (force || advImages != null || cfg.targets().isEmpty()) {
                return null;
            }
            org.apache.hadoop.conf.Configuration hadoop = io.advspark.job.Sessions.hadoopConf(cfg);
            if (!io.advspark.job.FinishedRound.evaluated(cfg, hadoop)) {
                return null;
            }
            System.out.println("advspark: the evaluation of round " + cfg.roundId() + " is up to date (same records, targets,"
                    + " defenses and score): nothing to do (--force scores again)");
            System.out.print(io.advspark.job.ReportJob.run(hadoop, cfg.roundUri(), Report.DEFAULT_METRIC, "table", true));
            return 0;
        }
    }

    /** {@code advspark devices}: where a round's tasks would compute, checked with one gradient each. */
    @Command(
            name = "devices",
            mixinStandardHelpOptions = true,
            header = "Check where the round's tasks compute (CPU or which GPU), with one gradient each; writes nothing.",
            description = {
                "Checks where the round's tasks compute before a long round: runs tasks with the round's Spark and",
                "advspark.device settings; each resolves its device from the GPU addresses Spark assigned it, loads the",
                "surrogates there and times one ensemble gradient. Prints a table (executor, GPU addresses, device,",
                "load and step ms, status) and exits 1 if any task could not compute on its device. Writes nothing."
            })
    public static final class Devices implements Callable<Integer> {
        @Mixin
        RoundOptions round;

        @Option(names = "--tasks", paramLabel = "N", description = "Number of probe tasks (default: twice Spark's default parallelism).")
        int tasks;

        @Override
        public Integer call() {
            return round.run((cfg, spark) -> {
                io.advspark.job.DeviceProbeJob.Result r = io.advspark.job.DeviceProbeJob.run(cfg, spark, tasks);
                System.out.print(r.render());
                return r.ok() ? 0 : 1;
            });
        }
    }

    /** {@code advspark report}: prints the leaderboard of an evaluated round. */
    @Command(
            name = "report",
            mixinStandardHelpOptions = true,
            header = "Print the leaderboard of an evaluated round (table, markdown, csv or json).",
            description = {
                "Prints the leaderboard of an evaluated round (attack config x defended target) from its summary table.",
                "ROUND is the round's folder (a path, file://, hdfs:// or s3a:// URI); or give the round's --config.",
                "--html FILE also writes a self-contained HTML page to share (see below)."
            })
    public static final class Report implements Callable<Integer> {
        @CommandLine.Parameters(arity = "0..1", paramLabel = "ROUND", description = "The round folder, e.g. out/nips17-mobilenets-mi.")
        String round;

        @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Round configuration: report <output>/<round id>.")
        File config;

        @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE", description = "Override a key of --config. Repeatable.")
        List<String> overrides = new ArrayList<>();

        @Mixin
        Verbosity verbosity;

        /** What `report` and the end of `attack` rank by: a defense that breaks clean accuracy gains nothing by it. */
        static final io.advspark.score.Leaderboard.Metric DEFAULT_METRIC =
                io.advspark.score.Leaderboard.Metric.UNTARGETED_ON_CORRECT;

        @Option(names = "--metric", paramLabel = "M", description = "Cell value: untargeted-on-correct (default) or"
                + " targeted-on-correct (success rate over the images the defended target classifies correctly when clean,"
                + " %%); untargeted or targeted (over all images, %%); score (mean competition score).")
        String metric = "untargeted-on-correct";

        @Option(names = "--intervals", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Show each success rate's Wilson 95%% interval (default; --no-intervals hides them).")
        boolean intervals = true;

        @Option(names = "--format", paramLabel = "F", description = "table (terminal layout, default), markdown (for reports),"
                + " csv or json (one line per attack and defended target, for scripts).")
        String format = "table";

        @Option(names = "--html", paramLabel = "FILE", description = {"Also write one self-contained HTML page (no network:"
                + " inline CSS, SVG figures, images embedded): the leaderboard, a heatmap attack x defended target, success"
                + " against eps when the round sweeps eps, the L-inf and L2 of the written PNGs, and a few images per attack"
                + " (clean, adversarial, amplified perturbation).",
            "Clean images need the round's dataset: give --config rather than the round folder to show them."})
        java.nio.file.Path html;

        @Override
        public Integer call() {
            io.advspark.score.Leaderboard.Metric m;
            try {
                m = io.advspark.score.Leaderboard.Metric.parse(metric);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("--metric: " + e.getMessage());
            }
            if (!List.of("table", "markdown", "csv", "json").contains(format)) {
                throw new ConfigException("--format: unknown format '" + format + "' (table, markdown, csv or json)");
            }
            if ((round == null) == (config == null)) {
                throw new ConfigException("report: give the round folder or its --config (one of them)");
            }
            verbosity.check();
            String uri;
            org.apache.hadoop.conf.Configuration hadoop;
            io.advspark.plan.DatasetConfig dataset = null;
            if (config != null) {
                RoundConfig cfg = ConfigLoader.load(config, overrides);
                uri = cfg.roundUri();
                hadoop = Sessions.hadoopConf(cfg);
                dataset = cfg.dataset();
            } else {
                uri = ConfigLoader.absoluteUri(round, "ROUND");
                hadoop = Sessions.hadoopConf(null);
            }
            // The tables are read directly: no Spark session to start for a finished round.
            System.out.print(io.advspark.job.ReportJob.run(hadoop, uri, m, format, intervals));
            if (html != null) {
                long bytes = io.advspark.job.HtmlReportJob.write(hadoop, uri, m, intervals, dataset, html);
                // stderr: stdout stays the leaderboard alone (--format csv or json feed scripts).
                System.err.printf(java.util.Locale.ROOT, "advspark: wrote %s (%.0f KB)%n", html.toAbsolutePath(), bytes / 1024.0);
            }
            return 0;
        }
    }

    /** The options every round command shares, and the set-up they share: config, threads, libtorch, Spark. */
    public static final class RoundOptions {
        @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Round configuration (HOCON), e.g. conf/nips17-mobilenets.conf.")
        File config;

        @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE", description = "Override a key, e.g. --set attack.eps=16 (the advspark. prefix is optional). Repeatable.")
        List<String> overrides = new ArrayList<>();

        @Option(names = "--master", paramLabel = "URL", description = "Spark master. When given, the launcher prints and runs the equivalent spark-submit. Default: advspark.spark.master (local[*]).")
        String master;

        @Option(names = "--conf", paramLabel = "PROP=VALUE", description = "A Spark property, as spark-submit takes it"
                + " (same as --set spark.conf.\"PROP\"=VALUE). Repeatable.")
        List<String> sparkConf = new ArrayList<>();

        @Option(names = "--executor-memory", paramLabel = "MEM", description = "spark.executor.memory, e.g. 8g.")
        String executorMemory;

        @Option(names = "--executor-cores", paramLabel = "N", description = "spark.executor.cores.")
        Integer executorCores;

        @Option(names = "--num-executors", paramLabel = "N", description = "spark.executor.instances (YARN, Kubernetes).")
        Integer numExecutors;

        @Option(names = "--driver-memory", paramLabel = "MEM", description = "The driver JVM's heap: jobs/advspark passes it"
                + " to the JVM it starts (-Xmx) or to spark-submit.")
        String driverMemory;

        @Option(names = "--deploy-mode", paramLabel = "MODE", description = "client (default) or cluster: jobs/advspark"
                + " passes it to spark-submit (with --master).")
        String deployMode;

        @Mixin
        Verbosity verbosity;

        /** The overrides with the spark-submit style options as the {@code spark.conf} keys they stand for. */
        List<String> allOverrides() {
            if (driverMemory != null || deployMode != null) {
                throw new ConfigException((driverMemory != null ? "--driver-memory" : "--deploy-mode") + " acts before this JVM"
                        + " starts: give it to jobs/advspark, which passes it on (this JVM was started without it)");
            }
            List<String> all = new ArrayList<>();
            for (String c : sparkConf) {
                int eq = c.indexOf('=');
                if (eq <= 0) {
                    throw new ConfigException("--conf expects PROP=VALUE, got: " + io.advspark.util.Secrets.redactUris(c));
                }
                all.add(sparkProperty(c.substring(0, eq).trim(), c.substring(eq + 1)));
            }
            if (executorMemory != null) {
                all.add(sparkProperty("spark.executor.memory", executorMemory));
            }
            if (executorCores != null) {
                all.add(sparkProperty("spark.executor.cores", executorCores.toString()));
            }
            if (numExecutors != null) {
                all.add(sparkProperty("spark.executor.instances", numExecutors.toString()));
            }
            all.addAll(overrides); // a --set of the same key wins
            return all;
        }

        private static String sparkProperty(String key, String value) {
            return "spark.conf.\"" + key + "\"=" + ConfigLoader.quote(value);
        }

        /** Loads the round, starts libtorch with the resolved thread count and a Spark session, runs {@code body}. */
        Integer run(java.util.function.BiFunction<RoundConfig, SparkSession, Integer> body) {
            return run(cfg -> null, body);
        }

        /**
         * As {@link #run(java.util.function.BiFunction)}, but first {@code beforeSpark}: its exit code,
         * when not null, ends the command without starting libtorch or Spark.
         */
        Integer run(java.util.function.Function<RoundConfig, Integer> beforeSpark,
                java.util.function.BiFunction<RoundConfig, SparkSession, Integer> body) {
            verbosity.check();
            RoundConfig cfg = ConfigLoader.load(config, allOverrides());
            Integer early = beforeSpark.apply(cfg);
            if (early != null) {
                return early;
            }
            String effectiveMaster = master != null ? master
                    : System.getProperty("spark.master", cfg.sparkMaster());
            int threads = Sessions.effectiveThreads(cfg, effectiveMaster);
            cfg = withThreads(cfg, threads);
            TorchRuntime.start(threads);
            SparkSession spark = Sessions.create(cfg, master);
            try {
                return body.apply(cfg, spark);
            } catch (Exception e) { // SparkException is checked, though Scala throws it undeclared
                java.util.Optional<WriteFailure> w = WriteFailure.of(e, cfg.roundId());
                if (w.isPresent()) {
                    throw w.get();
                }
                throw e;
            } finally {
                spark.stop();
            }
        }
    }

    /** The round with its libtorch thread count resolved (also for in-process runs: tests, notebooks). */
    public static RoundConfig withThreads(RoundConfig c, int threads) {
        return c.withThreads(threads);
    }
}
