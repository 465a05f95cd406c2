package io.advspark.job;

import io.advspark.data.ManifestRow;
import io.advspark.data.Storage;
import io.advspark.plan.RoundConfig;
import io.advspark.vocabulary.ConfigException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The work list of {@code evaluate --adv-images}: someone else's adversarial PNGs (TransferAttack's
 * output, a competition submission), one file per manifest row named by its ImageId, in the shape
 * of the records {@link EvaluateJob} reads. What does not fit is listed, never fatal: a manifest
 * row without its PNG is scored as an error row ("not found"); a file the manifest does not name
 * is reported and skipped; a PNG of another size than its clean image, or one that does not
 * decode, becomes an error row of its own when it is read.
 */
final class ForeignImages {
    private static final Logger LOG = LoggerFactory.getLogger(ForeignImages.class);
    /** Names listed in full in a warning; the rest are counted. */
    private static final int LISTED = 20;

    /**
     * The columns {@link EvaluateJob} reads of {@code records} (of error-free rows, so
     * {@code output_file} is set); for foreign images {@code output_file} is absolute.
     */
    static final StructType SCHEMA = new StructType()
            .add("attack", DataTypes.StringType, false)
            .add("attack_spec", DataTypes.StringType, false)
            .add("image_id", DataTypes.StringType, false)
            .add("true_label", DataTypes.IntegerType, true)
            .add("target_label", DataTypes.IntegerType, true)
            .add("output_file", DataTypes.StringType, false);

    private ForeignImages() {}

    static List<Row> records(RoundConfig config, Storage storage, EvaluateJob.Foreign foreign, int classes) {
        String dir = foreign.imagesUri();
        Set<String> files;
        try {
            if (!storage.exists(dir)) {
                throw new FileNotFoundException(dir);
            }
            files = new HashSet<>(storage.listFileNames(dir));
        } catch (FileNotFoundException e) {
            throw new ConfigException("--adv-images: no folder " + Storage.redact(dir));
        } catch (IOException e) {
            throw new ConfigException("--adv-images: cannot list " + Storage.redact(dir) + ": " + e.getMessage(), e);
        }
        byte[] manifest = AttackJob.manifestBytes(config, storage);
        List<ManifestRow> rows = AttackJob.parseManifest(config, manifest, classes, config.dataset().limit());
        List<Row> out = new ArrayList<>();
        Set<String> named = new HashSet<>();
        TreeSet<String> missing = new TreeSet<>();
        String spec = "external images=" + Storage.redact(dir);
        for (ManifestRow r : rows) {
            if (!r.ok()) {
                LOG.warn("advspark evaluate: {}", r.error());
                continue;
            }
            named.add(r.imageId());
            if (!files.contains(r.imageId())) {
                missing.add(r.imageId());
            }
            out.add(RowFactory.create(foreign.name(), spec, r.imageId(), r.trueLabel(), r.targetLabel(),
                    Storage.join(dir, r.imageId())));
        }
        TreeSet<String> extra = new TreeSet<>();
        for (String f : files) {
            if (!named.contains(f) && !f.startsWith(".") && !f.startsWith("_")) {
                extra.add(f);
            }
        }
        if (!missing.isEmpty()) {
            LOG.warn("advspark evaluate: {} of {} manifest images have no PNG in {} (scored as error rows): {}", missing.size(),
                    out.size(), Storage.redact(dir), list(missing));
        }
        if (!extra.isEmpty()) {
            LOG.warn("advspark evaluate: {} file(s) in {} are not in the manifest (skipped): {}", extra.size(),
                    Storage.redact(dir), list(extra));
        }
        if (out.isEmpty()) {
            throw new ConfigException("--adv-images: the manifest " + AttackJob.manifestUri(config) + " has no usable rows");
        }
        LOG.info("advspark evaluate: {} external PNG(s) of {} manifest image(s) in {}, scored as attack '{}'",
                out.size() - missing.size(), out.size(), Storage.redact(dir), foreign.name());
        return out;
    }

    static String list(java.util.SortedSet<String> names) {
        List<String> first = new ArrayList<>(names).subList(0, Math.min(LISTED, names.size()));
        return String.join(", ", first) + (names.size() > LISTED ? " and " + (names.size() - LISTED) + " more" : "");
    }
}
