package io.advspark.job;

import static org.apache.spark.sql.functions.col;

import io.advspark.data.ManifestRow;
import io.advspark.data.Storage;
import io.advspark.plan.NamedAttack;
import io.advspark.plan.RoundConfig;
import io.advspark.plan.ScoreAware;
import io.advspark.round.Column;
import io.advspark.round.RecordTables;
import io.advspark.round.RoundLayout;
import io.advspark.util.Fingerprint;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.VoidFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-image budget search of a round ({@code attack.search}), as waves of ordinary work: each
 * budget's attempt is an attack configuration of its own ({@code <attack>.eps<e>}), committed and
 * resumed per (image, budget) like any other; between waves the driver reads the committed
 * attempts' outcomes ({@code met}), walks each image's search ({@link ScoreAware#walk}) and either
 * asks for the next attempt or decides. A decided image's search row is its kept attempt's PNG,
 * copied to {@code images/<attack>/}, and its record, committed like a batch (PNG, then record
 * file). The walk is a function of the outcomes, so attempts may run in any task, wave or run.
 */
final class SearchWaves {
    private static final Logger LOG = LoggerFactory.getLogger(SearchWaves.class);

    private SearchWaves() {}

    /**
     * What the next wave does.
     *
     * @param attempts per manifest row ({@code ImageId@row}), the attempt names to run
     * @param finals the decided images whose search rows are not committed yet
     */
    record Next(Map<String, List<String>> attempts, List<Final> finals) {
        static final Next NONE = new Next(Map.of(), List.of());
    }

    /**
     * A decided image of a search: copy the kept attempt's PNG to the search's name and commit
     * {@code values} (a records row in column order).
     */
    record Final(String attack, String attempt, String imageId, Object[] values) implements Serializable {}

    /**
     * Where every image's search stands after what is committed. An attempt already asked for in
     * this run ({@code asked}, keys {@code ImageId@row/attempt}) is not asked again: it failed
     * (its image could not be read), and only a rerun retries it, as for any attack.
     */
    static Next next(SparkSession spark, Storage storage, RoundConfig config, List<NamedAttack> searches,
            List<ManifestRow> rows, RoundState.Committed committed, String recordsUri, Map<String, String> specs,
            java.util.Set<String> asked) {
        List<String> attemptNames = new ArrayList<>();
        for (NamedAttack s : searches) {
            for (double e : s.config().search().epsPixels()) {
                attemptNames.add(ScoreAware.attemptName(s.name(), e));
            }
        }
        // attempt -> ImageId -> its committed row (done rows only: the scan vouched for their PNGs)
        Map<String, Map<String, Row>> done = new HashMap<>();
        try {
            if (RoundState.hasDataFiles(storage, recordsUri)) {
                List<String> cols = new ArrayList<>(RecordTables.RECORDS.names());
                cols.add("attack");
                for (Row r : spark.read().schema(SparkTables.struct(RecordTables.RECORDS)).parquet(recordsUri)
                        .withColumn("attack", col("attack").cast("string"))
                        .where(col("error").isNull().and(col("attack").isin(attemptNames.toArray())))
                        .select(cols.stream().map(org.apache.spark.sql.functions::col).toArray(org.apache.spark.sql.Column[]::new))
                        .collectAsList()) {
                    String attempt = r.getAs("attack");
                    String id = r.getAs("image_id");
                    if (committed.done().get(attempt).contains(id)) {
                        done.computeIfAbsent(attempt, k -> new HashMap<>()).put(id, r);
                    }
                }
            }
        } catch (IOException e) {
            throw new io.advspark.vocabulary.ConfigException("cannot read " + recordsUri + ": " + e.getMessage(), e);
        }
        Map<String, List<String>> attempts = new LinkedHashMap<>();
        List<Final> finals = new ArrayList<>();
        for (ManifestRow r : rows) {
            for (NamedAttack s : searches) {
                ScoreAware.Search search = s.config().search();
                List<Double> budgets = search.epsPixels();
                String firstAttempt = ScoreAware.attemptName(s.name(), budgets.get(0));
                String key = r.imageId() + "@" + r.rowNumber();
                if (!r.ok()) {
                    // An unusable row gets its error record under the first attempt (once).
                    if (asked.add(key + "/" + firstAttempt)) {
                        attempts.computeIfAbsent(key, k -> new ArrayList<>()).add(firstAttempt);
                    }
                    continue;
                }
                if (committed.done().get(s.name()).contains(r.imageId())) {
                    continue;
                }
                Boolean[] met = new Boolean[budgets.size()];
                for (int i = 0; i < met.length; i++) {
                    Row a = done.getOrDefault(ScoreAware.attemptName(s.name(), budgets.get(i)), Map.of()).get(r.imageId());
                    met[i] = a == null ? null : Boolean.TRUE.equals(a.getAs("met"));
                }
                ScoreAware.Walk w = search.walk(met);
                if (!w.decided()) {
                    String attempt = ScoreAware.attemptName(s.name(), budgets.get(w.next()));
                    if (asked.add(key + "/" + attempt)) {
                        attempts.computeIfAbsent(key, k -> new ArrayList<>()).add(attempt);
                    }
                    continue;
                }
                finals.add(decide(s, r.imageId(), met, w, done, specs.get(s.name())));
            }
        }
        return new Next(attempts, finals);
    }

    /** The search row of a decided image: its kept attempt's row, renamed, with the walk and its cost. */
    private static Final decide(NamedAttack s, String imageId, Boolean[] met, ScoreAware.Walk w,
            Map<String, Map<String, Row>> done, String identity) {
        List<Double> budgets = s.config().search().epsPixels();
        // The walk again from nothing: the budgets in the order attempted.
        Boolean[] seen = new Boolean[met.length];
        StringBuilder walked = new StringBuilder();
        long steps = 0;
        long wallMs = 0;
        for (ScoreAware.Walk at = s.config().search().walk(seen); !at.decided();
                at = s.config().search().walk(seen)) {
            int i = at.next();
            seen[i] = met[i];
            Row a = done.get(ScoreAware.attemptName(s.name(), budgets.get(i))).get(imageId);
            walked.append(walked.length() == 0 ? "" : ",").append(ScoreAware.attemptLabel(budgets.get(i)))
                    .append(':').append(met[i] ? 1 : 0);
            steps += a.<Integer>getAs("steps");
            wallMs += a.<Long>getAs("wall_ms");
        }
        String attempt = ScoreAware.attemptName(s.name(), budgets.get(w.chosen()));
        Row kept = done.get(attempt).get(imageId);
        List<Column> columns = RecordTables.RECORDS.columns();
        Object[] values = new Object[columns.size()];
        for (int c = 0; c < values.length; c++) {
            String n = columns.get(c).name();
            values[c] = switch (n) {
                case "attack_spec" -> identity;
                case "output_file" -> RoundLayout.relativePng(s.name(), imageId);
                case "search" -> walked.toString();
                case "search_steps" -> (int) steps;
                case "wall_ms" -> wallMs;
                default -> kept.getAs(n);
            };
        }
        return new Final(s.name(), attempt, imageId, RecordTables.RECORDS.check(values));
    }

    /** Commits the decided images' search rows: per search, batches of PNG copies, then one record file each. */
    static void commitFinals(JavaSparkContext jsc, RoundConfig config, List<Final> finals,
            Broadcast<SerializableConfiguration> hconf, io.advspark.round.Provenance provenance) {
        Map<String, List<Final>> byAttack = new LinkedHashMap<>();
        finals.forEach(f -> byAttack.computeIfAbsent(f.attack(), k -> new ArrayList<>()).add(f));
        List<List<Final>> batches = new ArrayList<>();
        for (List<Final> list : byAttack.values()) {
            for (int i = 0; i < list.size(); i += config.batchSize()) {
                batches.add(List.copyOf(list.subList(i, Math.min(list.size(), i + config.batchSize()))));
            }
        }
        LOG.info("advspark: round {}: {} image(s) decided by their budget search, committed in {} batch(es)",
                config.roundId(), finals.size(), batches.size());
        jsc.sc().setJobDescription("advspark attack " + config.roundId() + ": search results");
        jsc.parallelize(batches, Math.max(1, Math.min(batches.size(), 4 * jsc.defaultParallelism())))
                .foreachPartition(new Writer(config, hconf));
    }

    /** Executor side of {@link #commitFinals}: the kept PNG copied (its checksum checked), then the record file. */
    private static final class Writer implements VoidFunction<java.util.Iterator<List<Final>>> {
        private final RoundConfig config;
        private final Broadcast<SerializableConfiguration> hconf;

        Writer(RoundConfig config, Broadcast<SerializableConfiguration> hconf) {
            this.config = config;
            this.hconf = hconf;
        }

        @Override
        public void call(java.util.Iterator<List<Final>> batches) throws Exception {
            Storage storage = Storage.of(hconf.value().value()).fencedTo(config.roundUri());
            RoundLayout layout = RoundLayout.of(config);
            int crcAt = RecordTables.RECORDS.index("png_crc32c");
            while (batches.hasNext()) {
                List<Final> batch = batches.next();
                List<Row> rows = new ArrayList<>();
                for (Final f : batch) {
                    String from = layout.png(f.attempt(), f.imageId());
                    byte[] png = storage.readAll(from);
                    if (Fingerprint.crc32c(png) != (Long) f.values()[crcAt]) {
                        throw new IOException(Storage.redact(from) + " does not have the checksum its record holds:"
                                + " rerun the round (its attempt is redone)");
                    }
                    storage.writeAtomically(layout.png(f.attack(), f.imageId()), png);
                    rows.add(RowFactory.create(f.values()));
                }
                ParquetFiles.write(storage, layout.batchFile(batch.get(0).attack(), batch.stream().map(Final::imageId).toList()),
                        SparkTables.struct(RecordTables.RECORDS), rows);
            }
        }
    }
}
