package io.advspark.job;

import io.advspark.data.Storage;
import io.advspark.model.ModelBundle;
import io.advspark.model.ModelLoader;
import io.advspark.plan.ModelSpec;
import io.advspark.plan.NamedAttack;
import io.advspark.plan.RoundConfig;
import io.advspark.round.ParquetRows;
import io.advspark.round.RoundLayout;
import io.advspark.util.Fingerprint;
import io.advspark.util.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What an evaluation scored, fingerprinted, so that a rerun of a finished round can tell that its
 * tables are up to date without starting Spark. The fingerprint covers the score preset, each
 * defended target (card name, defense chain, SHA-256 of the TorchScript file and card) and the
 * records it read: every record file of the round's attack configs, by name and length. A record
 * file is named after its attack and images, so another file means other rows; a batch redone by a
 * resume writes the same name but may differ in length (its timings), which costs a needless
 * evaluation, never a stale one.
 *
 * <p>Written as {@code summary/_advspark_evaluated.json} after the summary, the evaluation's last
 * table, and deleted before the first table is replaced: an evaluation that stopped halfway
 * leaves no stamp. It lives in the summary folder, so {@code --force} removes it with the tables
 * and Parquet readers skip it ({@code _} name).
 */
public record EvaluationStamp(String fingerprint, int recordFiles, String written) {
    // written: null for a stamp computed now, not yet written.
    static final String NAME = "_advspark_evaluated.json";

    /** Where the stamp of the round lives. */
    static String uri(RoundConfig config) {
        return Storage.join(RoundLayout.of(config).output("summary"), NAME);
    }

    /** The fingerprint of what an evaluation of the round now would score, with the targets read from storage. */
    static String current(RoundConfig config, Storage storage) throws IOException {
        List<ModelBundle> targets = ModelLoader.read(config.targets().stream().map(ModelSpec::source).toList(), storage);
        return of(config, storage, targets).fingerprint();
    }

    /** The stamp over {@code targets} (as loaded, configuration order) and the round's record files now. */
    static EvaluationStamp of(RoundConfig config, Storage storage, List<ModelBundle> targets) throws IOException {
        StringBuilder b = new StringBuilder("score ").append(config.score().spec()).append('\n');
        List<ModelSpec> specs = config.targets();
        for (int i = 0; i < specs.size(); i++) {
            ModelBundle t = targets.get(i);
            for (var chain : specs.get(i).defenses()) {
                b.append("target ").append(t.card().name()).append(" [").append(chain.spec()).append("] ")
                        .append(Fingerprint.sha256(t.torchScript())).append(' ').append(t.cardSha256()).append('\n');
            }
        }
        String records = RoundLayout.of(config).records();
        int count = 0;
        for (NamedAttack a : config.attacks()) {
            Map<String, Long> files = new TreeMap<>(storage.listFileLengths(AttackJob.attackRecords(records, a.name())));
            b.append("attack ").append(a.name()).append('\n');
            for (Map.Entry<String, Long> f : files.entrySet()) {
                if (ParquetRows.isDataFile(f.getKey())) {
                    b.append("  ").append(f.getKey()).append(' ').append(f.getValue()).append('\n');
                    count++;
                }
            }
        }
        return new EvaluationStamp(Fingerprint.sha256(b.toString().getBytes(StandardCharsets.UTF_8)), count, null);
    }

    /** Writes the stamp (after the summary table), from the listing {@link #of} made. */
    static void write(RoundConfig config, Storage storage, EvaluationStamp stamp) throws IOException {
        String json = "{\n  \"fingerprint\": " + Json.quote(stamp.fingerprint()) + ",\n  \"record_files\": "
                + stamp.recordFiles()
                + ",\n  \"written\": " + Json.quote(Instant.now().toString()) + "\n}\n";
        storage.writeAtomically(uri(config), json.getBytes(StandardCharsets.UTF_8));
    }

    /** Removes the stamp (before an evaluation replaces the first table). */
    static void clear(RoundConfig config, Storage storage) throws IOException {
        storage.delete(uri(config), false);
    }

    /** The stamp the last complete evaluation wrote, or null. */
    static EvaluationStamp read(RoundConfig config, Storage storage) throws IOException {
        String uri = uri(config);
        if (!storage.exists(uri)) {
            return null;
        }
        Map<?, ?> m;
        try {
            m = new com.fasterxml.jackson.databind.ObjectMapper().readValue(storage.readAll(uri), Map.class);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            return null; // unreadable: evaluated again, which rewrites it
        }
        Object fp = m.get("fingerprint");
        Object n = m.get("record_files");
        return fp == null ? null : new EvaluationStamp(fp.toString(), n instanceof Number x ? x.intValue() : -1,
                String.valueOf(m.get("written")));
    }
}
