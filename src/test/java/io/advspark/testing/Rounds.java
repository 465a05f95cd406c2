package io.advspark.testing;

import io.advspark.cli.Main;
import io.advspark.job.AttackJob;
import io.advspark.job.RoundSummary;
import io.advspark.job.Sessions;
import io.advspark.plan.ConfigLoader;
import io.advspark.plan.RoundConfig;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** Runs real rounds on local Spark from tests. */
public final class Rounds {
    private Rounds() {}

    /** The test rounds' base (src/test/resources/tiny-round.conf): the demo set, two tiny surrogates, MI at eps 8. */
    public static final java.io.File TINY = new java.io.File("src/test/resources/tiny-round.conf");

    public static RoundConfig config(String file, String... overrides) {
        return ConfigLoader.load(file == null ? null : new java.io.File(file), List.of(overrides));
    }

    /** {@code common} followed by {@code more}: overrides shared by two rounds of a test, plus one round's own. */
    public static String[] with(String[] common, String... more) {
        String[] out = java.util.Arrays.copyOf(common, common.length + more.length);
        System.arraycopy(more, 0, out, common.length, more.length);
        return out;
    }

    /**
     * How many committed record files (Parquet {@code part-} files, at any depth) lie under
     * {@code dir}, 0 when it does not exist yet: how tests watching a live round see its progress.
     */
    public static long committedParts(java.nio.file.Path dir) throws java.io.IOException {
        if (!java.nio.file.Files.isDirectory(dir)) {
            return 0;
        }
        try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.walk(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("part-")).count();
        }
    }

    /** Runs a round on {@code master} and returns its summary and records (collected). */
    public static Result run(RoundConfig cfg, String master) {
        return run(cfg, master, false);
    }

    /** Runs a round on {@code master}, redoing it whole with {@code force}. */
    public static Result run(RoundConfig cfg, String master, boolean force) {
        return run(cfg, master, force, false);
    }

    /** Runs a round on {@code master}; {@code verify} as {@code advspark attack --verify}. */
    public static Result run(RoundConfig cfg, String master, boolean force, boolean verify) {
        RoundConfig c = Main.withThreads(cfg, Sessions.effectiveThreads(cfg, master));
        SparkSession spark = Sessions.create(c, master);
        try {
            RoundSummary s = AttackJob.run(c, spark, force, verify);
            Dataset<Row> records = spark.read().parquet(c.roundUri() + "/records");
            return new Result(c, s, new ArrayList<>(records.collectAsList()));
        } finally {
            spark.stop();
            SparkSession.clearActiveSession();
            SparkSession.clearDefaultSession();
        }
    }

    /** Runs {@code advspark evaluate} for an attacked round on {@code master}. */
    public static io.advspark.job.EvaluationSummary evaluate(RoundConfig cfg, String master) {
        RoundConfig c = Main.withThreads(cfg, Sessions.effectiveThreads(cfg, master));
        SparkSession spark = Sessions.create(c, master);
        try {
            return io.advspark.job.EvaluateJob.run(c, spark);
        } finally {
            spark.stop();
            SparkSession.clearActiveSession();
            SparkSession.clearDefaultSession();
        }
    }

    public record Result(RoundConfig config, RoundSummary summary, List<Row> records) {
        public Row record(String imageId) {
            return records.stream().filter(r -> r.<String>getAs("image_id").equals(imageId)).findFirst()
                    .orElseThrow(() -> new AssertionError("no record for " + imageId));
        }
    }
}
