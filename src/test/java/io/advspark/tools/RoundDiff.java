package io.advspark.tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Compares two local round folders: every PNG byte for byte, and every table row for row
 * (records, attacks, predictions, scores, summary), leaving out only what differs between two
 * runs of the same round by nature: wall times and executor ids. A refactoring that must not
 * change what a round writes (the same round, the same bytes) is checked with it:
 * {@code jobs/compare-rounds OLD NEW} before and after. Prints each difference; exit 1 if any.
 */
public final class RoundDiff {
    /** Columns that two identical runs may still differ in. */
    static final Set<String> VOLATILE = Set.of("wall_ms", "executor_id");
    static final List<String> TABLES = List.of("records", "attacks", "predictions", "scores", "summary");

    private RoundDiff() {}

    /** The differences between two round folders; empty when they wrote the same. */
    public static List<String> diff(SparkSession spark, Path a, Path b) throws IOException {
        List<String> out = new ArrayList<>();
        Map<String, byte[]> pa = pngs(a);
        Map<String, byte[]> pb = pngs(b);
        Set<String> names = new TreeSet<>(pa.keySet());
        names.addAll(pb.keySet());
        for (String n : names) {
            if (!pa.containsKey(n) || !pb.containsKey(n)) {
                out.add("PNG " + n + " only in " + (pa.containsKey(n) ? a : b));
            } else if (!Arrays.equals(pa.get(n), pb.get(n))) {
                out.add("PNG " + n + " differs (" + pa.get(n).length + " vs " + pb.get(n).length + " bytes)");
            }
        }
        for (String t : TABLES) {
            boolean ina = Files.isDirectory(a.resolve(t));
            boolean inb = Files.isDirectory(b.resolve(t));
            if (ina != inb) {
                out.add("table " + t + " only in " + (ina ? a : b));
            } else if (ina) {
                List<String> ra = rows(spark, a.resolve(t));
                List<String> rb = rows(spark, b.resolve(t));
                if (!ra.equals(rb)) {
                    List<String> onlyA = new ArrayList<>(ra);
                    onlyA.removeAll(rb);
                    List<String> onlyB = new ArrayList<>(rb);
                    onlyB.removeAll(ra);
                    out.add("table " + t + ": " + ra.size() + " vs " + rb.size() + " rows; first only in " + a + ": "
                            + onlyA.stream().findFirst().orElse("-") + "; first only in " + b + ": "
                            + onlyB.stream().findFirst().orElse("-"));
                }
            }
        }
        return out;
    }

    private static Map<String, byte[]> pngs(Path round) throws IOException {
        Map<String, byte[]> m = new TreeMap<>();
        Path images = round.resolve("images");
        if (!Files.isDirectory(images)) {
            return m;
        }
        try (Stream<Path> s = Files.walk(images)) {
            for (Path p : s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
                m.put(images.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return m;
    }

    /** A table's rows as sorted strings, columns by name, volatile ones left out. */
    private static List<String> rows(SparkSession spark, Path table) {
        Dataset<Row> d = spark.read().parquet(table.toUri().toString());
        List<String> cols = new ArrayList<>(new TreeSet<>(Arrays.asList(d.columns())));
        cols.removeAll(VOLATILE);
        List<String> out = new ArrayList<>();
        for (Row r : d.selectExpr(cols.stream().map(c -> "`" + c + "`").toArray(String[]::new)).collectAsList()) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < cols.size(); i++) {
                sb.append(cols.get(i)).append('=').append(r.isNullAt(i) ? "null" : String.valueOf(r.get(i))).append(' ');
            }
            out.add(sb.toString().trim());
        }
        out.sort(null);
        return out;
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: jobs/compare-rounds ROUND_A ROUND_B   (two local round folders)");
            System.exit(2);
        }
        SparkSession spark = SparkSession.builder().master("local[1]").appName("advspark compare-rounds")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false").getOrCreate();
        List<String> d;
        try {
            d = diff(spark, Path.of(args[0]), Path.of(args[1]));
        } finally {
            spark.stop();
        }
        d.forEach(System.out::println);
        System.out.println(d.isEmpty() ? "compare-rounds: " + args[0] + " and " + args[1] + " wrote the same"
                : "compare-rounds: " + d.size() + " difference(s)");
        System.exit(d.isEmpty() ? 0 : 1);
    }
}
