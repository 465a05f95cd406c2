package io.advspark.job;

import io.advspark.data.Storage;
import io.advspark.plan.NamedAttack;
import io.advspark.round.Provenance;
import io.advspark.round.RoundLayout;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * The output layout of a round and its commit protocol, which makes a rerun resume.
 *
 * <pre>
 * &lt;round&gt;/images/&lt;attack&gt;/&lt;ImageId&gt;                 the adversarial PNGs of one attack config
 * &lt;round&gt;/records/attack=&lt;attack&gt;/part-&lt;h&gt;.parquet   one file per committed batch
 * &lt;round&gt;/records/attack=&lt;attack&gt;/failed-&lt;h&gt;.parquet error rows of one task (retried by a rerun)
 * &lt;round&gt;/corrupt/records/attack=&lt;attack&gt;/corrupt-&lt;name&gt;  unreadable record files, moved aside
 * </pre>
 *
 * <p>A batch writes its PNGs first, each atomically, then its record file in one atomic put:
 * <b>the record file is the commit</b>. An image counts as done for an attack when a committed
 * record file holds its row with no error, made with the same spec, models and manifest, and its
 * PNG exists with the length the row records. The file name is a hash of the
 * attack and the batch's ImageIds, so two attempts of one task (retry, speculation) write the same
 * names: whichever finishes last wins whole, and rows are never duplicated. A task killed between
 * its PNGs and its record file leaves PNGs without rows: not done, redone (same bytes) by the
 * rerun.
 */
public final class RoundState {

    private RoundState() {}

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
     * error rows are dropped (their images are retried); a record file naming a PNG that is gone or
     * has another length (with {@code verify}: another CRC32C, or that does not decode) is dropped
     * whole (its images are redone); a record file that cannot be read is moved aside
     * ({@link #quarantineFile}) and its images redone. Fails, naming the attack and what changed,
     * when an attack's committed rows were made with another attack spec, other surrogate models
     * or cards, or another manifest ({@link Provenance}), or by an older advspark that did not
     * record these: a rerun must not mix two configurations under one name. See {@link RoundScan}.
     */
    public static Committed scan(SparkSession spark, Storage storage, String roundUri, List<NamedAttack> attacks,
            Map<String, String> specs, Provenance provenance, boolean verify) {
        return RoundScan.scan(spark, storage, roundUri, attacks, specs, provenance, verify);
    }

    /**
     * The scan between two waves of one run (a budget search): as {@link #scan}, but the error rows
     * this run just wrote are kept (the next run retries them), not dropped.
     */
    static Committed rescan(SparkSession spark, Storage storage, String roundUri, List<NamedAttack> attacks,
            Map<String, String> specs, Provenance provenance) {
        return RoundScan.scan(spark, storage, roundUri, attacks, specs, provenance, false, false);
    }

    /**
     * Where an unreadable record file is moved aside: {@code <round>/corrupt/<its folder relative
     * to the round>/corrupt-<name>}, outside {@code records/} so Spark never reads it again, and
     * kept (never deleted) for a look at what went wrong.
     */
    public static String quarantineFile(String roundUri, String recordFileUri) {
        String round = new Path(roundUri).toUri().getPath();
        Path file = new Path(recordFileUri);
        String dir = file.getParent().toUri().getPath();
        String prefix = round.endsWith("/") ? round : round + "/";
        if (!dir.startsWith(prefix) && !dir.equals(round)) {
            throw new IllegalArgumentException(recordFileUri + " is not inside the round " + roundUri);
        }
        String rel = dir.equals(round) ? "" : dir.substring(prefix.length());
        // The file as the round's URI spells it (Spark names files file:/..., rounds file:///...).
        String inRound = Storage.join(roundUri, rel.isEmpty() ? file.getName() : rel + "/" + file.getName());
        return RoundLayout.at(roundUri).quarantine(inRound);
    }

    /** A Parquet data file, not a hidden temporary or Spark's marker ({@code .}/{@code _} names). */
    static boolean isDataFile(String name) {
        return io.advspark.round.ParquetRows.isDataFile(name);
    }

    /** Whether a folder holds any Parquet data file, at any depth. */
    static boolean hasDataFiles(Storage storage, String dirUri) throws IOException {
        Storage.FileIterator it = storage.listFiles(dirUri);
        while (it.hasNext()) {
            if (isDataFile(fileName(it.next()))) {
                return true;
            }
        }
        return false;
    }

    /** The last segment of a listed file's URI. */
    static String fileName(String uri) {
        return uri.substring(uri.lastIndexOf('/') + 1);
    }
}
