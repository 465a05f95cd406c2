package io.advspark.experiments;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * The table of {@code jobs/experiment-score-aware}: for each attack config of evaluated rounds,
 * the competition score of the round, the untargeted success on each defended target, the
 * white-box rate on the surrogates, the share of images whose written PNG met the objective on the
 * stopping set, the mean L-inf, and the compute per image (gradient steps over all attempts,
 * stopping-set queries, wall time). Reads the rounds' records, scores and summary tables; prints
 * markdown.
 */
@Command(name = "ScoreAwareReport", mixinStandardHelpOptions = true,
        description = "Markdown table of score-aware rounds (jobs/experiment-score-aware) from their tables.")
public final class ScoreAwareReport implements java.util.concurrent.Callable<Integer> {
    @Parameters(paramLabel = "ROUND", description = "evaluated round folders (file paths)")
    List<String> rounds = new ArrayList<>();

    public static void main(String[] args) {
        System.exit(new CommandLine(new ScoreAwareReport()).execute(args));
    }

    @Override
    public Integer call() {
        SparkSession spark = SparkSession.builder().master("local[1]").appName("score-aware-report")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false").getOrCreate();
        try {
            for (String round : rounds) {
                System.out.println(table(spark, round));
            }
        } finally {
            spark.stop();
        }
        return 0;
    }

    static String table(SparkSession spark, String round) {
        spark.read().parquet(round + "/records").createOrReplaceTempView("records");
        spark.read().parquet(round + "/scores").createOrReplaceTempView("scores");
        spark.read().parquet(round + "/summary").createOrReplaceTempView("summary");
        List<String> attacks = new ArrayList<>();
        for (Row r : spark.sql("select distinct attack from summary order by attack").collectAsList()) {
            attacks.add(r.getString(0));
        }
        Map<String, Map<String, Double>> success = new LinkedHashMap<>();
        TreeMap<String, Boolean> variants = new TreeMap<>();
        for (Row r : spark.sql("select attack, target, defense, untargeted_success_rate from summary").collectAsList()) {
            String v = r.getString(2).equals("model") ? r.getString(1) : r.getString(2).replace(" > model", "") + " > "
                    + r.getString(1);
            variants.put(v, true);
            success.computeIfAbsent(r.getString(0), k -> new LinkedHashMap<>()).put(v, r.getDouble(3));
        }
        StringBuilder b = new StringBuilder();
        b.append("### ").append(round).append("\n\n");
        b.append("| attack | budget (0..255) | round score | ");
        variants.keySet().forEach(v -> b.append(v).append(" | "));
        b.append("white-box | met | mean L-inf | steps / image | queries / image | ms / image |\n|---|---|---:|");
        variants.keySet().forEach(v -> b.append("---:|"));
        b.append("---:|---:|---:|---:|---:|---:|\n");
        for (String a : attacks) {
            Row s = spark.sql("select avg(score), avg(linf) from scores where attack = '" + a + "'").first();
            Row r = spark.sql("select avg(cast(untargeted_success as int)), avg(cast(met as int)),"
                    + " avg(coalesce(search_steps, steps)), avg(wall_ms), max(search), max(attack_spec), count(*)"
                    + " from records where attack = '" + a + "' and error is null").first();
            // Queries of the stopping set: early-exit checks of every attempt, plus one per attempt
            // for its `met` when the set is the validation models (the surrogates' is the record's own).
            String spec = r.isNullAt(5) ? "" : r.getString(5);
            boolean search = spec.contains(" search=");
            boolean validation = spec.contains("until=validation") || spec.contains("stop=validation");
            // A search's own row repeats its kept attempt's checks: count the attempts' rows only.
            Row q = spark.sql("select sum(coalesce(stop_checks, 0)), count(*) from records where error is null and "
                    + (search ? "attack like '" + a + ".eps%'" : "attack = '" + a + "'")).first();
            long images = r.getLong(6);
            double attempts = q.getLong(1) / (double) images;
            double queries = q.getLong(0) / (double) images + (validation ? attempts : 0);
            String budget = search ? spec.replaceAll(".* search=([a-z]+)\\(eps=\\[([^]]*)\\].*", "$1 [$2]")
                    : spec.replaceAll("^eps=([0-9.]+) .*", "$1").replace(".0", "");
            if (spec.contains(" stop=")) {
                budget += ", " + spec.replaceAll(".* (stop=[a-z]+\\(every=[0-9]+\\)).*", "$1");
            }
            b.append(String.format(Locale.ROOT, "| %s | %s | %.4f | ", a, budget, s.getDouble(0)));
            for (String v : variants.keySet()) {
                Double x = success.getOrDefault(a, Map.of()).get(v);
                b.append(x == null ? "" : String.format(Locale.ROOT, "%.1f %%", 100 * x)).append(" | ");
            }
            b.append(String.format(Locale.ROOT, "%.1f %% | %s | %.2f | %.1f | %.1f | %.0f |\n", 100 * r.getDouble(0),
                    r.isNullAt(1) ? "" : String.format(Locale.ROOT, "%.1f %%", 100 * r.getDouble(1)), s.getDouble(1),
                    r.getDouble(2), queries, r.getDouble(3)));
        }
        return b.toString();
    }
}
