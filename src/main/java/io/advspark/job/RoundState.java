package io.advspark.job;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.input_file_name;

import io.advspark.config.ConfigException;
import io.advspark.config.NamedAttack;
import io.advspark.data.Storage;
import io.advspark.round.RoundLayout;
import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The output layout of a round and its commit protocol, which makes a rerun resume.
 *
 * <pre>
 * &lt;round&gt;/images/&lt;attack&gt;/&lt;ImageId&gt;                 the adversarial PNGs of one attack config
 * &lt;round&gt;/records/attack=&lt;attack&gt;/part-&lt;h&gt;.parquet   one file per committed batch
 * &lt;round&gt;/records/attack=&lt;attack&gt;/failed-&lt;h&gt;.parquet error rows of one task (retried by a rerun)
 * </pre>
 *
 * <p>A batch writes its PNGs first, each atomically, then its record file in one atomic put:
 * <b>the record file is the commit</b>. An image counts as done for an attack when a committed
 * record file holds its row with no error and its PNG exists. The file name is a hash of the
 * attack and the batch's ImageIds, so two attempts of one task (retry, speculation) write the same
 * names: whichever finishes last wins whole, and rows are never duplicated. A task killed between
 * its PNGs and its record file leaves PNGs without rows: not done, redone (same bytes) by the
 * rerun.
 */
public final class RoundState {
    private static final Logger LOG = LoggerFactory.getLogger(RoundState.class);

    /** Tables and folders a round writes, all removed by {@code --force}. */
    public static final List<String> OUTPUTS = RoundLayout.OUTPUTS;

    private RoundState() {}

    // Paths come from RoundLayout, the one place that computes (and checks) a round's layout.

    public static String imagesDir(String roundUri, String attack) {
        return RoundLayout.at(roundUri).images(attack);
    }

    /** Path of an attack's PNG relative to the round folder (the records' {@code output_file}). */
    public static String relativePng(String attack, String imageId) {
        return RoundLayout.relativePng(attack, imageId);
    }

    public static String recordsDir(String roundUri) {
        return RoundLayout.at(roundUri).records();
    }

    public static String recordsDir(String roundUri, String attack) {
        return RoundLayout.at(roundUri).records(attack);
    }

    /** The record file committing a batch: named by the attack and the batch's ImageIds. */
    public static String batchFile(String roundUri, String attack, List<String> imageIds) {
        return RoundLayout.at(roundUri).batchFile(attack, imageIds);
    }

    /** The error rows of one task for one attack, keyed by what failed (ImageIds or manifest lines). */
    public static String failedFile(String roundUri, String attack, List<String> keys) {
        return RoundLayout.at(roundUri).failedFile(attack, keys);
    }

    /**
     * What a previous run of the round committed.
     *
     * @param done per attack name, the ImageIds done
     * @param rows committed rows (done or not) per attack
     */
    public record Committed(Map<String, Set<String>> done, Map<String, Long> rows) {
        public long doneCount() {
            return done.values().stream().mapToLong(Set::size).sum();
        }
    }

    /**
     * Reads what is committed for the given attacks, and makes the round consistent for a rerun:
     * error rows are dropped (their images are retried), a record file naming a PNG that is gone
     * is dropped whole (its images are redone). Fails, naming the attack, when an attack's
     * committed rows were made with another attack spec: a rerun must not mix two configurations
     * under one name.
     */
    public static Committed scan(SparkSession spark, Storage storage, String roundUri, List<NamedAttack> attacks,
            Map<String, String> specs) {
        String records = recordsDir(roundUri);
        Map<String, Set<String>> done = new LinkedHashMap<>();
        Map<String, Long> rows = new HashMap<>();
        attacks.forEach(a -> done.put(a.name(), new HashSet<>()));
        try {
            if (!hasDataFiles(storage, records)) {
                return new Committed(done, rows);
            }
            if (!storage.listFileNames(records).isEmpty()) {
                throw new ConfigException(records + " holds record files outside attack=<name>/ folders: it was written by an"
                        + " older advspark; rerun with --force or use another advspark.round.id");
            }
            List<Row> committed = spark.read().parquet(records)
                    .select(col("attack").cast("string"), col("image_id"), col("error"), col("attack_spec"),
                            input_file_name().as("file"))
                    .collectAsList();
            Map<String, Set<String>> filesOf = new HashMap<>();
            Map<String, Set<String>> specsSeen = new HashMap<>();
            Set<String> failedFiles = new TreeSet<>();
            for (Row r : committed) {
                String attack = r.getString(0);
                String file = r.getString(4);
                rows.merge(attack, 1L, Long::sum);
                if (!done.containsKey(attack)) {
                    continue; // an attack this configuration no longer lists: kept, not touched
                }
                specsSeen.computeIfAbsent(attack, k -> new TreeSet<>()).add(r.getString(3));
                if (r.isNullAt(2)) {
                    done.get(attack).add(r.getString(1));
                    filesOf.computeIfAbsent(attack + "\n" + r.getString(1), k -> new HashSet<>()).add(file);
                } else if (new Path(file).getName().startsWith("failed-")) {
                    failedFiles.add(file);
                }
            }
            for (Map.Entry<String, Set<String>> e : specsSeen.entrySet()) {
                String now = specs.get(e.getKey());
                for (String before : e.getValue()) {
                    if (!before.equals(now)) {
                        throw new ConfigException("attack '" + e.getKey() + "' of round " + roundUri + " was run as ["
                                + before + "] but is now [" + now + "]: give the new configuration another name, or rerun"
                                + " with --force to redo the round");
                    }
                }
            }
            for (String f : failedFiles) {
                storage.delete(f, false);
            }
            // A committed row whose PNG is gone: drop its whole record file, redo its images.
            Set<String> stale = new TreeSet<>();
            for (NamedAttack a : attacks) {
                Set<String> pngs = new HashSet<>(storage.listFileNames(imagesDir(roundUri, a.name())));
                for (String id : done.get(a.name())) {
                    if (!pngs.contains(id)) {
                        stale.addAll(filesOf.get(a.name() + "\n" + id));
                    }
                }
            }
            if (!stale.isEmpty()) {
                Set<String> staleSet = new HashSet<>(stale);
                for (Row r : committed) {
                    if (staleSet.contains(r.getString(4)) && done.containsKey(r.getString(0))) {
                        done.get(r.getString(0)).remove(r.getString(1));
                    }
                }
                LOG.warn("advspark: {} committed record file(s) name PNGs that are missing; they are dropped and their"
                        + " images redone: {}", stale.size(), stale);
                for (String f : stale) {
                    storage.delete(f, false);
                }
            }
            if (!failedFiles.isEmpty()) {
                LOG.info("advspark: retrying the images of {} earlier error file(s)", failedFiles.size());
            }
            return new Committed(done, rows);
        } catch (IOException e) {
            throw new ConfigException("cannot read the committed outputs of " + roundUri + ": " + e.getMessage(), e);
        }
    }

    /** Whether a folder holds any Parquet data file, at any depth. */
    static boolean hasDataFiles(Storage storage, String dirUri) throws IOException {
        Path dir = new Path(dirUri);
        FileSystem fs = dir.getFileSystem(storage.conf());
        if (!fs.exists(dir)) {
            return false;
        }
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(dir, true);
        while (it.hasNext()) {
            String n = it.next().getPath().getName();
            if (n.endsWith(".parquet") && !n.startsWith(".") && !n.startsWith("_")) {
                return true;
            }
        }
        return false;
    }
}
