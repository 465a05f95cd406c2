package io.advspark.plan;

import io.advspark.data.Manifest;
import io.advspark.data.ManifestRow;
import io.advspark.model.ModelCard;
import io.advspark.vocabulary.ConfigException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code advspark init}: a starter round file for a dataset folder and model files, every key
 * commented, that runs as written. What can be read off the inputs is checked and filled in: the
 * layout (a dev.csv, or class folders of images), the manifest's rows and its label convention
 * (0- or 1-based, from the labels against the models' class count), each model's card, and that
 * surrogates and targets share the dataset's classes.
 * Paths are written relative to the file's folder, as the loader resolves them.
 */
public final class RoundTemplate {
    private RoundTemplate() {}

    /** What the template was made from, resolved: the file, dataset folder, surrogates and targets. */
    public record Inputs(Path file, Path data, List<Path> surrogates, List<Path> targets) {
        public Inputs {
            surrogates = List.copyOf(surrogates);
            targets = List.copyOf(targets);
        }
    }

    /** What {@link #write} found, for the command's closing lines. */
    public record Written(Path file, int rows, int labelBase, int classes, String note) {}

    /**
     * Writes the starter round file.
     *
     * @param force overwrite an existing file
     */
    public static Written write(Inputs in, boolean force) throws IOException {
        if (Files.exists(in.file()) && !force) {
            throw new ConfigException(in.file() + " exists: give another --output or --force to replace it");
        }
        if (in.surrogates().isEmpty()) {
            throw new ConfigException("init: give at least one surrogate (--model FILE.pt), the models the attack runs on");
        }
        Path manifest = in.data().resolve("dev.csv");
        List<String> classFolders = imageFolders(in.data());
        if (!Files.isRegularFile(manifest) && classFolders.isEmpty()) {
            throw new ConfigException("init: " + in.data() + " holds neither dev.csv (ImageId,TrueLabel,TargetClass, with"
                    + " images/<ImageId>) nor class folders of images (<class>/<file>.png or .jpg)");
        }
        List<ModelCard> cards = new ArrayList<>();
        List<Path> all = new ArrayList<>(in.surrogates());
        all.addAll(in.targets());
        for (Path m : all) {
            if (!Files.isRegularFile(m)) {
                throw new ConfigException("init: model " + m + " not found");
            }
            Path card = m.resolveSibling(m.getFileName().toString().replaceFirst("\\.[A-Za-z0-9]+$", "") + ".json");
            if (!Files.isRegularFile(card)) {
                throw new ConfigException("init: model card " + card + " not found (tools/export_model.py writes it beside the"
                        + " .pt; docs/models.md describes it)");
            }
            cards.add(ModelCard.parse(Files.readAllBytes(card), card.toString()));
        }
        int classes = cards.get(0).datasetClasses();
        for (int i = 1; i < cards.size(); i++) {
            if (cards.get(i).datasetClasses() != classes) {
                throw new ConfigException("init: " + all.get(i) + " has " + cards.get(i).datasetClasses() + " classes but "
                        + all.get(0) + " has " + classes + ": every model of a round labels the same dataset");
            }
        }
        if (!Files.isRegularFile(manifest)) {
            // An ImageFolder: the labels are the sorted folder names' indices.
            if (classFolders.size() > classes) {
                throw new ConfigException("init: " + in.data() + " has " + classFolders.size() + " class folders but the models"
                        + " have " + classes + " classes");
            }
            int images = 0;
            for (String c : classFolders) {
                try (java.util.stream.Stream<Path> files = Files.list(in.data().resolve(c))) {
                    images += (int) files.filter(f -> io.advspark.data.DatasetLayout.ImageFolder.isImage(f.getFileName().toString())).count();
                }
            }
            Path dir = in.file().toAbsolutePath().getParent();
            Files.createDirectories(dir);
            String note = "labels are the class folders' sorted order (" + String.join(", ", classFolders.subList(0,
                    Math.min(3, classFolders.size()))) + (classFolders.size() > 3 ? ", ..." : "") + "); if the models order"
                    + " their classes otherwise, list the folders in that order in a file and set dataset.classes to it";
            Files.writeString(in.file(), text(dir, in, cards, 0, images, true));
            return new Written(in.file(), images, 0, classes, note);
        }
        // The label convention: the one under which every row's labels fit the models' classes;
        // when both do, a manifest without a label 0 is taken as 1-based (as NIPS-17 dev sets are).
        byte[] csv = Files.readAllBytes(manifest);
        List<ManifestRow> zero = Manifest.parse(new ByteArrayInputStream(csv), manifest.toString(), 0, classes, 0);
        List<ManifestRow> one = Manifest.parse(new ByteArrayInputStream(csv), manifest.toString(), 1, classes, 0);
        boolean zeroFits = !zero.isEmpty() && zero.stream().allMatch(ManifestRow::ok);
        boolean oneFits = !one.isEmpty() && one.stream().allMatch(ManifestRow::ok);
        boolean hasZero = zero.stream().anyMatch(r -> r.ok() && (r.trueLabel() == 0 || r.targetLabel() == 0));
        int labelBase;
        String note = "";
        if (zeroFits && (hasZero || !oneFits)) {
            labelBase = 0;
        } else if (oneFits) {
            labelBase = 1;
            if (zeroFits) {
                note = "no label 0 in dev.csv: taken as 1-based (TF-slim, NIPS-17); set dataset.label-base = 0 if the"
                        + " labels are 0-based";
            }
        } else {
            String first = zero.stream().filter(r -> !r.ok()).map(ManifestRow::error).findFirst().orElse("no rows");
            throw new ConfigException("init: the labels of " + manifest + " fit the models' " + classes + " classes neither"
                    + " 0-based nor 1-based (" + first + ")");
        }
        List<ManifestRow> rows = labelBase == 0 ? zero : one;
        Path dir = in.file().toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Files.writeString(in.file(), text(dir, in, cards, labelBase, rows.size(), false));
        return new Written(in.file(), rows.size(), labelBase, classes, note);
    }

    /** {@code p} relative to the file's folder when it is near (inside it or a sibling's), else absolute. */
    private static String rel(Path dir, Path p) {
        Path abs = p.toAbsolutePath().normalize();
        String r = dir.relativize(abs).toString().replace('\\', '/');
        return r.startsWith("../../") ? abs.toString() : r;
    }

    /** The sub-folders of {@code data} that hold images, sorted (an ImageFolder's classes). */
    private static List<String> imageFolders(Path data) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(data)) {
            return out;
        }
        try (java.util.stream.Stream<Path> s = Files.list(data)) {
            for (Path p : s.filter(Files::isDirectory).sorted().toList()) {
                try (java.util.stream.Stream<Path> files = Files.list(p)) {
                    if (files.anyMatch(f -> io.advspark.data.DatasetLayout.ImageFolder.isImage(f.getFileName().toString()))) {
                        out.add(p.getFileName().toString());
                    }
                }
            }
        }
        return out;
    }

    private static String text(Path dir, Inputs in, List<ModelCard> cards, int labelBase, int rows, boolean imageFolder) {
        String id = in.file().getFileName().toString().replaceFirst("\\.[^.]*$", "");
        StringBuilder b = new StringBuilder();
        b.append("# A round written by `advspark init`: run it with\n")
                .append("#   jobs/advspark attack -c ").append(in.file().getFileName()).append(" --check   # inputs only, in seconds\n")
                .append("#   jobs/advspark attack -c ").append(in.file().getFileName()).append("           # attack, score, leaderboard\n")
                .append("# Relative paths resolve against this file's folder. Every key: docs/configuration.md;\n")
                .append("# every attack part: docs/attack-parts.md.\n")
                .append("advspark {\n")
                .append("  # Outputs go to <output>/<id>/ (images/<attack>/*.png and the Parquet tables). The id\n")
                .append("  # defaults to this file's name (").append(id).append(").\n")
                .append("  round { output = \"out\" }\n\n")
                .append(imageFolder
                        ? "  # " + rows + " images in class folders (<class>/<file>): the label is the folder's index in\n"
                                + "  # the sorted folder names, or in the file named by classes (one folder per line, in the\n"
                                + "  # models' order); each image's target class is drawn from its file name.\n"
                        : "  # " + rows + " images: dev.csv (ImageId,TrueLabel,TargetClass) and images/<ImageId>.\n"
                                + "  # label-base " + labelBase + (labelBase == 1 ? ": labels 1..N (TF-slim / Tianchi)"
                                : ": labels 0..N-1") + ", read off the labels against the models' "
                                + cards.get(0).datasetClasses() + " classes.\n")
                .append("  # limit = 0 attacks every image; a small limit tries the round first.\n")
                .append("  dataset { uri = \"").append(rel(dir, in.data())).append("\"")
                .append(imageFolder ? ", layout = \"image-folder\", classes = \"\"" : ", label-base = " + labelBase)
                .append(", limit = 0 }\n\n")
                .append("  # role = surrogate: attacked as an ensemble (logits averaged); role = target: held out,\n")
                .append("  # scored plain and behind each defense (docs/defenses.md). Cards: the .json beside each .pt.\n")
                .append("  models = [\n");
        for (int i = 0; i < in.surrogates().size(); i++) {
            ModelCard c = cards.get(i);
            b.append("    { path = \"").append(rel(dir, in.surrogates().get(i))).append("\", role = surrogate }   # ")
                    .append(c.name()).append(", ").append(c.inputHeight()).append("x").append(c.inputWidth()).append('\n');
        }
        for (int i = 0; i < in.targets().size(); i++) {
            ModelCard c = cards.get(in.surrogates().size() + i);
            b.append("    { path = \"").append(rel(dir, in.targets().get(i)))
                    .append("\", role = target, defenses = [\"model\", \"jpeg(75)\", \"bits(4)\"] }   # ")
                    .append(c.name()).append('\n');
        }
        b.append("  ]\n\n")
                .append("  # Shared by every entry of attacks: L-inf budget and step count (0..255 units; the step\n")
                .append("  # defaults to eps / steps), and the objective (untargeted | targeted).\n")
                .append("  attack { eps = 16, steps = 10, objective = untargeted }\n\n")
                .append("  # One attack config per entry, all over the same images in one job. Parts by spec, each\n")
                .append("  # with its paper's defaults: update (mi, ni, vmi, vni, pgn, ...), input (di, si, admix,\n")
                .append("  # bsr, ssa, ...), gradient (ti), loss, ensemble. conf/recipes/ has the published recipes.\n")
                .append("  attacks = [\n")
                .append("    { name = \"mi\" }\n")
                .append("    { name = \"mi-di-ti\", input = [\"di\"], gradient = [\"ti\"] }\n")
                .append("  ]\n\n")
                .append("  # The competition score of the evaluation: tianchi2019(eps), nips2017(targeted), asr(targeted).\n")
                .append("  evaluate.score = \"tianchi2019\"\n\n")
                .append("  # Images per batch in a task, and the most rows per forward (memory only).\n")
                .append("  batch-size = 8\n")
                .append("  max-rows = 64\n\n")
                .append("  # cpu, or gpu (each task on the GPU Spark assigned it; docs/operations.md).\n")
                .append("  device = \"cpu\"\n")
                .append("  # fp32, or bf16 (surrogates' bf16 exports beside them; docs/precision.md).\n")
                .append("  precision = \"fp32\"\n")
                .append("}\n");
        return b.toString();
    }
}
