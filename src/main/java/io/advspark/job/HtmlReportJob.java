package io.advspark.job;

import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.data.Storage;
import io.advspark.plan.DatasetConfig;
import io.advspark.report.HtmlReport;
import io.advspark.report.ReportData;
import io.advspark.round.BatchScorer;
import io.advspark.round.ParquetRows;
import io.advspark.round.RoundLayout;
import io.advspark.score.Leaderboard;
import io.advspark.vocabulary.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code advspark report --html FILE}: reads what the page shows from the round's tables, without
 * Spark (summary through {@link ReportJob#summary}, the one mapping of its columns; records,
 * attacks and predictions; the chosen images' PNGs and clean images), and writes the page that
 * {@link HtmlReport} renders.
 */
public final class HtmlReportJob {
    private static final Logger LOG = LoggerFactory.getLogger(HtmlReportJob.class);

    private HtmlReportJob() {}

    /** The columns of {@code attacks} that are not what an attack config is made of: the rest make its sweep family. */
    private static final Set<String> NOT_FAMILY = Set.of("attack", "attack_spec", "eps", "step_size");

    /**
     * Writes the page to {@code file} and returns its size in bytes.
     *
     * @param dataset the round's dataset (from its configuration), or null: the grid then shows no
     *     clean images (the round folder does not record where its dataset is)
     */
    public static long write(Configuration conf, String roundUri, Leaderboard.Metric metric, boolean intervals,
            DatasetConfig dataset, Path file) {
        String html = HtmlReport.render(read(conf, roundUri, metric, intervals, dataset));
        byte[] bytes = html.getBytes(StandardCharsets.UTF_8);
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new ConfigException("--html: cannot write " + file + ": " + e.getMessage(), e);
        }
        return bytes.length;
    }

    /** What the page shows. */
    public static ReportData read(Configuration conf, String roundUri, Leaderboard.Metric metric, boolean intervals,
            DatasetConfig dataset) {
        Storage storage = Storage.of(conf);
        ReportJob.Summary summary = ReportJob.summary(storage, conf, roundUri);
        List<Map<String, Object>> records = ReportJob.records(storage, conf, roundUri);
        Leaderboard.Style style = new Leaderboard.Style(false, intervals, ReportJob.msPerImage(records));
        Set<String> scored = new LinkedHashSet<>(summary.entries().stream().map(Leaderboard.Entry::attack).toList());
        List<ReportData.Norm> norms = new ArrayList<>();
        for (Map<String, Object> r : records) {
            if (r.get("error") == null && scored.contains(ReportJob.str(r, "attack")) && r.get("linf") instanceof Number linf
                    && r.get("l2") instanceof Number l2) {
                norms.add(new ReportData.Norm(ReportJob.str(r, "attack"), linf.intValue(), l2.doubleValue()));
            }
        }
        ReportData.Header header = new ReportData.Header(summary.roundId(), Storage.redact(roundUri), summary.scoreSpec(),
                summary.images(), Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), io.advspark.util.Version.VERSION);
        List<ReportData.AttackInfo> attacks = attacks(storage, conf, roundUri, records, scored);
        ReportData.Samples samples = samples(storage, conf, roundUri, summary, metric, records, dataset);
        return new ReportData(header, summary.entries(), metric, style, attacks, norms, samples);
    }

    /** Each scored attack config's eps and sweep family, from the {@code attacks} table (else the records' eps, no family). */
    static List<ReportData.AttackInfo> attacks(Storage storage, Configuration conf, String roundUri,
            List<Map<String, Object>> records, Set<String> scored) {
        Map<String, ReportData.AttackInfo> out = new LinkedHashMap<>();
        String table = RoundLayout.at(roundUri).output("attacks");
        try {
            if (RoundState.hasDataFiles(storage, table)) {
                for (Map<String, Object> r : ParquetRows.read(storage, conf, table)) {
                    String a = ReportJob.str(r, "attack");
                    if (!scored.contains(a)) {
                        continue;
                    }
                    Map<String, String> key = new TreeMap<>();
                    r.forEach((k, v) -> {
                        if (!NOT_FAMILY.contains(k)) {
                            key.put(k, String.valueOf(v));
                        }
                    });
                    out.put(a, new ReportData.AttackInfo(a, ReportJob.dbl(r, "eps"), key.toString()));
                }
            }
        } catch (IOException e) {
            LOG.warn("advspark report: cannot read {} ({}); no eps sweep figure", table, e.getMessage());
        }
        for (Map<String, Object> r : records) {
            String a = ReportJob.str(r, "attack");
            if (scored.contains(a) && !out.containsKey(a) && r.get("eps") instanceof Number eps) {
                out.put(a, new ReportData.AttackInfo(a, eps.doubleValue(), "attack " + a));
            }
        }
        return new ArrayList<>(out.values());
    }

    /** The grid: the best ranked attack configs, the same evenly spaced images of each. */
    static ReportData.Samples samples(Storage storage, Configuration conf, String roundUri, ReportJob.Summary summary,
            Leaderboard.Metric metric, List<Map<String, Object>> records, DatasetConfig dataset) {
        Map<String, Map<String, Map<String, Object>>> ok = new LinkedHashMap<>(); // attack -> image -> record
        for (Map<String, Object> r : records) {
            if (r.get("error") == null && r.get("output_file") != null) {
                ok.computeIfAbsent(ReportJob.str(r, "attack"), k -> new TreeMap<>()).put(ReportJob.str(r, "image_id"), r);
            }
        }
        List<String> ranked = Leaderboard.rankedAttacks(summary.entries(), metric).stream().filter(ok::containsKey).toList();
        if (ranked.isEmpty()) {
            return ReportData.Samples.none("No written PNGs in the records.");
        }
        List<String> shown = ranked.subList(0, Math.min(HtmlReport.GRID_ATTACKS, ranked.size()));
        List<String> notes = new ArrayList<>();
        if (ranked.size() > shown.size()) {
            notes.add("Showing the " + shown.size() + " best ranked of " + ranked.size() + " attack configs.");
        }
        TreeSet<String> common = new TreeSet<>(ok.get(shown.get(0)).keySet());
        shown.forEach(a -> common.retainAll(ok.get(a).keySet()));
        List<String> all = new ArrayList<>(common);
        List<String> ids = new ArrayList<>();
        int n = Math.min(HtmlReport.GRID_IMAGES, all.size());
        for (int i = 0; i < n; i++) {
            ids.add(all.get((int) ((long) i * all.size() / n)));
        }
        Map<String, Map<String, Map<String, Integer>>> preds = predictions(storage, conf, roundUri, Set.copyOf(shown), Set.copyOf(ids));
        RoundLayout layout = RoundLayout.at(roundUri);
        List<ReportData.Image> images = new ArrayList<>();
        int cleanFailures = 0;
        for (String id : ids) {
            Map<String, Object> r = ok.get(shown.get(0)).get(id);
            RgbImage clean = null;
            if (dataset != null) {
                try {
                    clean = BatchScorer.readClean(storage, dataset, id);
                } catch (IOException | RuntimeException e) {
                    cleanFailures++;
                    LOG.warn("advspark report: cannot read the clean image {}: {}", id, e.getMessage());
                }
            }
            images.add(new ReportData.Image(id, integer(r, "true_label"), integer(r, "target_label"), clean));
        }
        if (dataset == null) {
            notes.add("No clean images or perturbations: the round folder does not record its dataset; give the round's"
                    + " --config to `advspark report --html` to show them.");
        } else if (cleanFailures > 0) {
            notes.add(cleanFailures + " clean image(s) could not be read from " + Storage.redact(dataset.uri()) + ".");
        }
        Map<String, Map<String, ReportData.Adversarial>> adversarial = new LinkedHashMap<>();
        for (String a : shown) {
            Map<String, ReportData.Adversarial> m = new LinkedHashMap<>();
            for (String id : ids) {
                Map<String, Object> r = ok.get(a).get(id);
                RgbImage adv = null;
                String file = ReportJob.str(r, "output_file");
                try {
                    String uri = file.contains(":") || file.startsWith("/") ? file
                            : layout.requireInside(Storage.join(layout.root(), file));
                    adv = Png.decode(storage.readAll(uri), uri);
                } catch (IOException | RuntimeException e) {
                    LOG.warn("advspark report: cannot read the PNG {} of {}: {}", file, a, e.getMessage());
                }
                m.put(id, new ReportData.Adversarial(integer(r, "adv_pred"),
                        preds.getOrDefault(a, Map.of()).getOrDefault(id, Map.of()), ReportJob.num(r, "linf").intValue(),
                        ReportJob.dbl(r, "l2"), adv));
            }
            adversarial.put(a, m);
        }
        return new ReportData.Samples(images, shown, adversarial, String.join(" ", notes));
    }

    /** Each defended target's top-1 on the chosen PNGs: attack -> image -> leaderboard column -> label. */
    private static Map<String, Map<String, Map<String, Integer>>> predictions(Storage storage, Configuration conf, String roundUri,
            Set<String> attacks, Set<String> ids) {
        Map<String, Map<String, Map<String, Integer>>> out = new LinkedHashMap<>();
        String table = RoundLayout.at(roundUri).output("predictions");
        try {
            if (!RoundState.hasDataFiles(storage, table)) {
                return out;
            }
            List<Map<String, Object>> rows = new ArrayList<>(ParquetRows.read(storage, conf, table));
            rows.sort(java.util.Comparator.comparing((Map<String, Object> r) -> ReportJob.str(r, "target"))
                    .thenComparing(r -> !ReportJob.str(r, "defense").equals("model")).thenComparing(r -> ReportJob.str(r, "defense")));
            for (Map<String, Object> r : rows) {
                String a = ReportJob.str(r, "attack");
                String id = ReportJob.str(r, "image_id");
                if (attacks.contains(a) && ids.contains(id) && r.get("error") == null) {
                    out.computeIfAbsent(a, k -> new LinkedHashMap<>()).computeIfAbsent(id, k -> new LinkedHashMap<>())
                            .put(ReportJob.variant(ReportJob.str(r, "target"), ReportJob.str(r, "defense")), integer(r, "adv_top1"));
                }
            }
        } catch (IOException e) {
            LOG.warn("advspark report: cannot read {} ({}); the grid shows the surrogates' predictions only", table,
                    e.getMessage());
        }
        return out;
    }

    private static Integer integer(Map<String, Object> r, String column) {
        return r.get(column) instanceof Number n ? n.intValue() : null;
    }
}
