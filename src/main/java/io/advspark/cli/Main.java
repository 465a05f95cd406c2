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
        description = "Transfer-based adversarial examples at cluster scale.",
        subcommands = {Main.Attack.class, Main.Evaluate.class, Main.Report.class, Main.Devices.class})
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

    /** {@code advspark attack}: runs one attack round. */
    @Command(
            name = "attack",
            mixinStandardHelpOptions = true,
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
            return round.run((cfg, spark) -> {
                if (check) {
                    AttackJob.check(cfg, spark);
                    System.out.println("advspark: configuration, manifest and models are valid");
                    return 0;
                }
                AttackJob.run(cfg, spark, new AttackJob.Options(force, takeOver, verify), s -> {
                    System.out.println(s.render());
                    if (!cfg.targets().isEmpty() && !noEvaluate) {
                        // The round holds out targets: score the written PNGs on them right away.
                        System.out.println(EvaluateJob.run(cfg, spark).render());
                    }
                });
                return 0;
            });
        }
    }

    /** {@code advspark evaluate}: scores a round's written PNGs on its (defended) target models. */
    @Command(
            name = "evaluate",
            mixinStandardHelpOptions = true,
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

        @Override
        public Integer call() {
            return round.run((cfg, spark) -> {
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
    }

    /** {@code advspark devices}: where a round's tasks would compute, checked with one gradient each. */
    @Command(
            name = "devices",
            mixinStandardHelpOptions = true,
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
            description = {
                "Prints the leaderboard of an evaluated round (attack config x defended target) from its summary table.",
                "ROUND is the round's folder (a path, file://, hdfs:// or s3a:// URI); or give the round's --config."
            })
    public static final class Report implements Callable<Integer> {
        @CommandLine.Parameters(arity = "0..1", paramLabel = "ROUND", description = "The round folder, e.g. out/nips17-mobilenets-mi.")
        String round;

        @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Round configuration: report <output>/<round id>.")
        File config;

        @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE", description = "Override a key of --config. Repeatable.")
        List<String> overrides = new ArrayList<>();

        @Option(names = "--metric", paramLabel = "M", description = "Cell value: score (competition score, default);"
                + " untargeted or targeted (success rate over all images, %%); untargeted-on-correct or targeted-on-correct"
                + " (over the images the defended target classifies correctly when clean, %%).")
        String metric = "score";

        @Option(names = "--intervals", description = "Show each success rate's Wilson 95%% interval.")
        boolean intervals;

        @Option(names = "--format", paramLabel = "F", description = "table (terminal layout, default) or markdown (for reports).")
        String format = "table";

        @Override
        public Integer call() {
            io.advspark.score.Leaderboard.Metric m;
            try {
                m = io.advspark.score.Leaderboard.Metric.parse(metric);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("--metric: " + e.getMessage());
            }
            if (!format.equals("table") && !format.equals("markdown")) {
                throw new ConfigException("--format: unknown format '" + format + "' (table or markdown)");
            }
            if ((round == null) == (config == null)) {
                throw new ConfigException("report: give the round folder or its --config (one of them)");
            }
            SparkSession spark;
            String uri;
            if (config != null) {
                RoundConfig cfg = ConfigLoader.load(config, overrides);
                uri = cfg.roundUri();
                spark = Sessions.create(cfg, System.getProperty("spark.master", "local[1]"));
            } else {
                uri = ConfigLoader.absoluteUri(round, "ROUND");
                spark = Sessions.reader(System.getProperty("spark.master", "local[1]"));
            }
            try {
                System.out.print(io.advspark.job.ReportJob.run(spark, uri, m, format.equals("markdown"), intervals));
                return 0;
            } finally {
                spark.stop();
            }
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

        /** Loads the round, starts libtorch with the resolved thread count and a Spark session, runs {@code body}. */
        Integer run(java.util.function.BiFunction<RoundConfig, SparkSession, Integer> body) {
            RoundConfig cfg = ConfigLoader.load(config, overrides);
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
