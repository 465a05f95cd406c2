package io.advspark.job;

import io.advspark.data.ManifestRow;
import io.advspark.data.Storage;
import io.advspark.model.ModelBundle;
import io.advspark.model.ModelLoader;
import io.advspark.plan.NamedAttack;
import io.advspark.plan.RoundConfig;
import io.advspark.round.ParquetRows;
import io.advspark.round.Provenance;
import io.advspark.round.RoundLayout;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A rerun of a finished round, decided before Spark starts: every usable manifest row is
 * committed for every attack config with the same identity as a resume requires ({@link RoundScan}:
 * spec, surrogates, cards, settings, manifest), with no error row and its PNG listed at its
 * recorded length; and, for a round with targets, the evaluation stamp matches
 * ({@link EvaluationStamp}). Anything else (a budget search, another launcher's lease, more record
 * files than the driver reads itself, any doubt) answers "not finished", and the round runs as
 * usual, with the full resume scan and its messages.
 */
public final class FinishedRound {
    private static final Logger LOG = LoggerFactory.getLogger(FinishedRound.class);

    private FinishedRound() {}

    /** What a finished round's rerun shows: the round's summary, and whether its evaluation is current. */
    public record State(RoundSummary summary, boolean evaluated) {}

    /** The round's state when every attack config is complete; empty when the round has work left or cannot tell. */
    public static Optional<State> of(RoundConfig config, Configuration conf, long jvmStartMillis) {
        try {
            return Optional.ofNullable(check(config, Storage.of(conf), conf, jvmStartMillis));
        } catch (IOException | RuntimeException e) {
            // The full run reads the same things and reports what is wrong, with context.
            LOG.debug("advspark: finished-round check of {} inconclusive: {}", config.roundId(), e.toString());
            return Optional.empty();
        }
    }

    private static State check(RoundConfig config, Storage storage, Configuration conf, long jvmStartMillis)
            throws IOException {
        RoundLayout layout = RoundLayout.of(config);
        if (config.searches() || config.surrogates().isEmpty() || !storage.exists(layout.marker())
                || storage.exists(layout.lease())) {
            return null;
        }
        List<ModelBundle> bundles = ModelLoader.read(config.surrogateSources(storage), storage);
        byte[] manifest = AttackJob.manifestBytes(config, storage);
        List<ManifestRow> rows = AttackJob.parseManifest(config, manifest, bundles.get(0).card().datasetClasses(),
                config.dataset().limit());
        if (rows.stream().noneMatch(ManifestRow::ok)) {
            return null;
        }
        Provenance provenance = Provenance.of(bundles, AttackJob.manifestUri(config), manifest);
        String records = layout.records();
        List<String> names = config.attacks().stream().map(NamedAttack::name).toList();
        Map<String, List<String>> files = AttackJob.fewRecordFiles(storage, records, names);
        if (files == null) {
            return null;
        }
        long committed = 0;
        Map<String, List<Map<String, Object>>> byAttack = new java.util.LinkedHashMap<>();
        for (NamedAttack a : config.attacks()) {
            String spec = config.identity(a, a.config().toAttack());
            Map<String, Long> pngBytes = new HashMap<>();
            for (String f : files.get(a.name())) {
                if (f.substring(f.lastIndexOf('/') + 1).startsWith("failed-")) {
                    return null; // error rows: a rerun retries them
                }
            }
            List<Map<String, Object>> read = ParquetRows.read(conf, AttackJob.attackRecords(records, a.name()),
                    files.get(a.name()));
            byAttack.put(a.name(), read);
            for (Map<String, Object> r : read) {
                if (r.get("error") != null || !spec.equals(r.get("attack_spec")) || !(r.get("png_bytes") instanceof Long n)
                        || provenance.changeFrom(str(r, "model_sha256"), str(r, "card_sha256"),
                                str(r, "surrogate_settings"), str(r, "manifest_sha256")) != null) {
                    return null;
                }
                pngBytes.put(str(r, "image_id"), n);
            }
            Map<String, Long> listed = storage.listFileLengths(layout.images(a.name()));
            for (ManifestRow row : rows) {
                if (!row.ok()) {
                    continue;
                }
                Long recorded = pngBytes.get(row.imageId());
                if (recorded == null || !recorded.equals(listed.get(RoundLayout.pngName(row.imageId())))) {
                    return null;
                }
                committed++;
            }
        }
        boolean evaluated = !config.targets().isEmpty() && evaluationCurrent(config, storage);
        // The summary from the rows just checked: the record files are read once.
        List<RoundSummary.Line> lines = AttackJob.summaryLines(byAttack, names);
        double seconds = (System.currentTimeMillis() - jvmStartMillis) / 1e3;
        return new State(RoundSummary.of(config.roundUri(), seconds, committed, lines), evaluated);
    }

    /** Whether the round's evaluation tables are up to date (false when that cannot be told). */
    public static boolean evaluated(RoundConfig config, Configuration conf) {
        try {
            return evaluationCurrent(config, Storage.of(conf));
        } catch (IOException | RuntimeException e) {
            LOG.debug("advspark: evaluation check of {} inconclusive: {}", config.roundId(), e.toString());
            return false;
        }
    }

    /** Whether the round's evaluation tables were written from what the round holds now. */
    static boolean evaluationCurrent(RoundConfig config, Storage storage) throws IOException {
        EvaluationStamp stamp = EvaluationStamp.read(config, storage);
        return stamp != null && stamp.fingerprint().equals(EvaluationStamp.current(config, storage));
    }

    private static String str(Map<String, Object> r, String column) {
        Object v = r.get(column);
        return v == null ? null : v.toString();
    }
}
