package io.advspark.job;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.input_file_name;

import io.advspark.data.Png;
import io.advspark.data.Storage;
import io.advspark.plan.NamedAttack;
import io.advspark.round.Provenance;
import io.advspark.round.RecordTables;
import io.advspark.round.RoundLayout;
import io.advspark.util.Fingerprint;
import io.advspark.util.Messages;
import io.advspark.vocabulary.ConfigException;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The resume scan of {@link RoundState#scan}: reads what earlier runs committed and keeps only
 * what can be proven intact and made with the same inputs.
 *
 * <ul>
 *   <li>identity: every committed row must carry this run's attack spec and {@link Provenance}
 *       (models, cards, surrogate settings, manifest), else the resume is refused;
 *   <li>integrity: a done row counts only if its PNG is listed with the length the row records
 *       ({@code --verify}: and its CRC32C matches and it decodes); otherwise its record file is
 *       dropped and its batch redone;
 *   <li>a record file that cannot be read is moved aside ({@link RoundState#quarantineFile}) and
 *       its batch redone.
 * </ul>
 */
final class RoundScan {
    private static final Logger LOG = LoggerFactory.getLogger(RoundScan.class);
    /** Warnings naming single PNGs, at most this many per scan (then one count). */
    private static final int MAX_PNG_WARNINGS = 20;

    private RoundScan() {}

    /** The columns the scan reads, in this order. */
    private static final String[] COLUMNS = {"attack", "image_id", "error", "attack_spec", "png_bytes", "png_crc32c",
        "model_sha256", "card_sha256", "surrogate_settings", "manifest_sha256"};

    private static final int ATTACK = 0, IMAGE = 1, ERROR = 2, SPEC = 3, BYTES = 4, CRC = 5, MODELS = 6, CARDS = 7,
            SETTINGS = 8, MANIFEST = 9, FILE = 10;

    /** A committed row without error: the PNG it vouches for. */
    private record Done(String attack, String imageId, String file, long bytes, long crc) {}

    static RoundState.Committed scan(SparkSession spark, Storage storage, String roundUri, List<NamedAttack> attacks,
            Map<String, String> specs, Provenance provenance, boolean verify) {
        return scan(spark, storage, roundUri, attacks, specs, provenance, verify, true);
    }

    /** As above; {@code retryFailed = false} keeps error files (a scan between waves of the same run). */
    static RoundState.Committed scan(SparkSession spark, Storage storage, String roundUri, List<NamedAttack> attacks,
            Map<String, String> specs, Provenance provenance, boolean verify, boolean retryFailed) {
        String records = RoundLayout.at(roundUri).records();
        Map<String, Set<String>> done = new LinkedHashMap<>();
        Map<String, Long> rows = new HashMap<>();
        attacks.forEach(a -> done.put(a.name(), new HashSet<>()));
        try {
            Map<String, String> files = dataFiles(storage, records);
            if (files.isEmpty()) {
                return new RoundState.Committed(done, rows);
            }
            if (!storage.listFileNames(records).isEmpty()) {
                throw new ConfigException(records + " holds record files outside attack=<name>/ folders: it was written by an"
                        + " older advspark; rerun with --force or use another advspark.round.id");
            }
            List<Row> committed = readIntact(spark, storage, roundUri, records, files);
            Map<String, Map<List<String>, String>> identities = new HashMap<>();
            Set<String> failedFiles = new TreeSet<>();
            List<Done> doneRows = new ArrayList<>();
            for (Row r : committed) {
                String attack = r.getString(ATTACK);
                String file = files.getOrDefault(key(r.getString(FILE)), r.getString(FILE));
                rows.merge(attack, 1L, Long::sum);
                if (!done.containsKey(attack)) {
                    continue; // an attack this configuration no longer lists: kept, not touched
                }
                boolean ok = r.isNullAt(ERROR);
                if (r.isNullAt(MODELS) || r.isNullAt(CARDS) || r.isNullAt(SETTINGS) || r.isNullAt(MANIFEST)
                        || ok && (r.isNullAt(BYTES) || r.isNullAt(CRC))) {
                    throw new ConfigException("attack '" + attack + "' of round " + Storage.redact(roundUri)
                            + " was written by an older advspark: its record file " + Storage.redact(file) + " has no"
                            + " model, card and manifest fingerprints or no PNG length and checksum, so a resume cannot"
                            + " check what it would skip; rerun with --force to redo the round, or use another"
                            + " advspark.round.id");
                }
                identities.computeIfAbsent(attack, k -> new LinkedHashMap<>()).putIfAbsent(List.of(r.getString(SPEC),
                        r.getString(MODELS), r.getString(CARDS), r.getString(SETTINGS), r.getString(MANIFEST)), file);
                if (ok) {
                    doneRows.add(new Done(attack, r.getString(IMAGE), file, r.getLong(BYTES), r.getLong(CRC)));
                } else if (new Path(file).getName().startsWith("failed-")) {
                    failedFiles.add(file);
                }
            }
            checkIdentity(roundUri, specs, provenance, identities);
            if (!retryFailed) {
                failedFiles.clear(); // this run's own error rows: kept, retried by the next run
            }
            for (String f : failedFiles) {
                storage.delete(f, false);
            }
            Set<String> stale = damaged(spark, storage, roundUri, attacks, doneRows, verify);
            for (Done d : doneRows) {
                if (!stale.contains(d.file())) {
                    done.get(d.attack()).add(d.imageId());
                }
            }
            for (String f : stale) {
                storage.delete(f, false);
            }
            if (!failedFiles.isEmpty()) {
                LOG.info("advspark: retrying the images of {} earlier error file(s)", failedFiles.size());
            }
            return new RoundState.Committed(done, rows);
        } catch (IOException e) {
            throw new ConfigException("cannot read the committed outputs of " + Storage.redact(roundUri) + ": "
                    + e.getMessage(), e);
        }
    }

    /** Refuses an attack whose committed rows were made with another spec, models, cards or manifest. */
    private static void checkIdentity(String roundUri, Map<String, String> specs, Provenance provenance,
            Map<String, Map<List<String>, String>> identities) {
        String way = ": use another advspark.round.id or attack name for the new setup, or rerun with --force to redo"
                + " the round";
        for (Map.Entry<String, Map<List<String>, String>> e : identities.entrySet()) {
            String attack = e.getKey();
            String now = specs.get(attack);
            for (List<String> before : e.getValue().keySet()) {
                if (!before.get(0).equals(now)) {
                    throw new ConfigException("attack '" + attack + "' of round " + roundUri + " was run as ["
                            + before.get(0) + "] but is now [" + now + "]: give the new configuration another name, or"
                            + " rerun with --force to redo the round");
                }
                String change = provenance.changeFrom(before.get(1), before.get(2), before.get(3), before.get(4));
                if (change != null) {
                    throw new ConfigException("attack '" + attack + "' of round " + Storage.redact(roundUri)
                            + " cannot resume, its committed images were made with other inputs: " + change
                            + "; resuming would mix them in one round" + way);
                }
            }
        }
    }

    /**
     * The committed rows of every readable record file, from one read that skips unreadable files
     * (so an unreadable one costs no failed Spark task and its stack trace). A listed file that gave
     * no row is a suspect: it is opened alone on the driver (footer and row groups), moved aside if
     * that fails, else read alone (a transient failure, or a file without rows) and its rows kept.
     */
    private static List<Row> readIntact(SparkSession spark, Storage storage, String roundUri, String records,
            Map<String, String> files) throws IOException {
        List<Row> rows = new ArrayList<>(read(spark, records, true, records));
        Set<String> produced = new HashSet<>();
        for (Row r : rows) {
            produced.add(key(r.getString(FILE)));
        }
        for (Map.Entry<String, String> f : files.entrySet()) {
            if (produced.contains(f.getKey())) {
                continue;
            }
            String why = unreadable(storage, f.getValue());
            if (why == null) {
                try {
                    rows.addAll(read(spark, records, false, f.getValue()));
                    continue;
                } catch (Exception e) {
                    why = rootMessage(e);
                }
            }
            String to = moveAside(storage, roundUri, f.getValue());
            LOG.warn("advspark: record file {} cannot be read ({}): moved aside to {}; its batch is redone",
                    Storage.redact(f.getValue()), why, Storage.redact(to));
        }
        return rows;
    }

    /** Why a Parquet file cannot be opened and its row groups read, or null if it can. */
    private static String unreadable(Storage storage, String uri) {
        try (ParquetFileReader r = ParquetFileReader.open(ParquetFiles.inputFile(storage, uri))) {
            while (r.readNextRowGroup() != null) {
                // reading is the check
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return rootMessage(e);
        }
    }

    /** Renames {@code file} to {@link RoundState#quarantineFile}, with a numeric suffix if that is taken. */
    private static String moveAside(Storage storage, String roundUri, String file) throws IOException {
        String base = RoundState.quarantineFile(roundUri, file);
        String to = base;
        for (int n = 2; storage.exists(to); n++) {
            to = base + "." + n;
        }
        storage.rename(file, to);
        return to;
    }

    /** The scan's columns of {@code paths} (the records folder or one file in it), with each row's file. */
    private static List<Row> read(SparkSession spark, String records, boolean skipUnreadable, String paths) {
        // The explicit schema: a column an older advspark did not write comes back null whatever file
        // Spark would otherwise take the schema from.
        DataFrameReader reader = spark.read().schema(SparkTables.struct(RecordTables.RECORDS)).option("basePath", records)
                .option("ignoreCorruptFiles", String.valueOf(skipUnreadable));
        org.apache.spark.sql.Column[] cols = new org.apache.spark.sql.Column[COLUMNS.length + 1];
        for (int i = 0; i < COLUMNS.length; i++) {
            cols[i] = i == ATTACK ? col("attack").cast("string") : col(COLUMNS[i]);
        }
        cols[FILE] = input_file_name().as("file");
        return reader.parquet(paths).select(cols).collectAsList();
    }

    /**
     * Record files whose PNG is missing, has another length, or (with {@code verify}) another
     * CRC32C or does not decode; one warning per PNG names it.
     */
    private static Set<String> damaged(SparkSession spark, Storage storage, String roundUri, List<NamedAttack> attacks,
            List<Done> doneRows, boolean verify) throws IOException {
        Map<String, Map<String, Long>> listed = new HashMap<>();
        for (NamedAttack a : attacks) {
            listed.put(a.name(), storage.listFileLengths(RoundLayout.at(roundUri).images(a.name())));
        }
        Map<Done, String> bad = new LinkedHashMap<>();
        List<PngCheck> toVerify = new ArrayList<>();
        for (Done d : doneRows) {
            Long len = listed.get(d.attack()).get(RoundLayout.pngName(d.imageId()));
            if (len == null) {
                bad.put(d, "is missing");
            } else if (len != d.bytes()) {
                bad.put(d, "is " + len + " bytes, its record says " + d.bytes());
            } else if (verify) {
                toVerify.add(new PngCheck(d.attack(), d.imageId(), d.file(), pngUri(roundUri, d), d.crc()));
            }
        }
        if (verify) {
            bad.putAll(verifyAll(spark, toVerify));
            LOG.info("advspark: --verify: read, checksummed and decoded {} committed PNG(s)", toVerify.size());
        }
        int warned = 0;
        Set<String> stale = new TreeSet<>();
        for (Map.Entry<Done, String> e : bad.entrySet()) {
            Done d = e.getKey();
            stale.add(d.file());
            if (warned++ < MAX_PNG_WARNINGS) {
                LOG.warn("advspark: committed PNG {} {}: its record file {} is dropped and its batch redone",
                        Storage.redact(pngUri(roundUri, d)), e.getValue(), Storage.redact(d.file()));
            }
        }
        if (warned > MAX_PNG_WARNINGS) {
            LOG.warn("advspark: ... and {} more committed PNG(s) missing or damaged", warned - MAX_PNG_WARNINGS);
        }
        return stale;
    }

    private static String pngUri(String roundUri, Done d) {
        return Storage.join(RoundLayout.at(roundUri).images(d.attack()), RoundLayout.pngName(d.imageId()));
    }

    /** One PNG for {@code --verify} to read (on the executors). */
    record PngCheck(String attack, String imageId, String file, String uri, long crc) implements java.io.Serializable {}

    /** {@code --verify}: every PNG read, checksummed and decoded by a Spark job; the damaged ones and why. */
    private static Map<Done, String> verifyAll(SparkSession spark, List<PngCheck> checks) {
        Map<Done, String> out = new LinkedHashMap<>();
        if (checks.isEmpty()) {
            return out;
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<SerializableConfiguration> conf =
                jsc.broadcast(new SerializableConfiguration(jsc.hadoopConfiguration()));
        try {
            spark.sparkContext().setJobDescription("advspark --verify: " + checks.size() + " committed PNGs");
            int slices = Math.max(1, Math.min(jsc.defaultParallelism() * 4, checks.size() / 16 + 1));
            List<scala.Tuple2<PngCheck, String>> failures = jsc.parallelize(checks, slices)
                    .map(c -> new scala.Tuple2<>(c, problem(Storage.of(conf.value().value()), c)))
                    .filter(t -> t._2() != null)
                    .collect();
            for (scala.Tuple2<PngCheck, String> f : failures) {
                PngCheck c = f._1();
                out.put(new Done(c.attack(), c.imageId(), c.file(), 0, c.crc()), f._2());
            }
        } finally {
            spark.sparkContext().setJobDescription(null);
            conf.destroy();
        }
        return out;
    }

    /** Why a committed PNG is not intact, or null. */
    static String problem(Storage storage, PngCheck c) {
        byte[] bytes;
        try {
            bytes = storage.readAll(c.uri());
        } catch (IOException e) {
            return "cannot be read: " + Messages.firstLine(e.getMessage());
        }
        if (Fingerprint.crc32c(bytes) != c.crc()) {
            return "does not match the CRC32C its record holds";
        }
        try {
            Png.decode(bytes, c.uri());
        } catch (IOException e) {
            return "does not decode: " + Messages.firstLine(e.getMessage());
        }
        return null;
    }

    /** Data files under a folder at any depth (not hidden {@code .}/{@code _} ones), by {@link #key}. */
    private static Map<String, String> dataFiles(Storage storage, String dirUri) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        Storage.FileIterator it = storage.listFiles(dirUri);
        while (it.hasNext()) {
            String file = it.next();
            if (RoundState.isDataFile(RoundState.fileName(file))) {
                out.put(new Path(file).toUri().getPath(), file);
            }
        }
        return out;
    }

    /** A file's path as listings and Spark's (URL-encoded) {@code input_file_name()} both map to it. */
    private static String key(String inputFileName) {
        return new Path(URI.create(inputFileName)).toUri().getPath();
    }

    /** The innermost message of a failure, first line: Spark wraps the reader's cause several times. */
    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return Messages.firstLine(t.getMessage() == null ? t.toString() : t.getMessage());
    }
}
