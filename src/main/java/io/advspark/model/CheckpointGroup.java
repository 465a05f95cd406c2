package io.advspark.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.advspark.data.Storage;
import io.advspark.vocabulary.ConfigException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A model entry that names a group of TorchScript files instead of one: the checkpoints of one
 * training run, as LGV (Gubri et al., ECCV 2022) and MoreBayesian (Li et al., ICLR 2023) collect
 * them, or fine-tuned copies of one model. Configured as
 * {@code { group = "path/to/folder", role = surrogate, weight = 1 }} (see docs/models.md); the
 * folder is written by {@code tools/collect_checkpoints.py}.
 *
 * <p>Where the members come from, in this order:
 *
 * <ol>
 *   <li>a glob in the last path segment ({@code .../lgv/resnet20_*.pt}): the matching files of
 *       that folder, in name order, each with the card of the same stem ({@code .json});
 *   <li>a folder with a group card {@code group.json} (or the entry's {@code card}): its
 *       {@code members} list, {@code [{"file": "x.pt", "card": "x.json"}, ...]}, paths relative
 *       to the folder, in that order;
 *   <li>a folder without one: every {@code .pt} file in it, in name order, cards beside.
 * </ol>
 *
 * <p>The group's weight is shared equally by its members, so an attack without the
 * {@code checkpoints} augmentation sees the group as the average of its members' logits; with it,
 * each image draws {@code k} members per step ({@code attack.augment.Checkpoints}). Every member
 * must be interchangeable with the first: same input size, classes, label offset and
 * normalisation, and the same taps; {@link #checkMembers} names the file that differs.
 */
public final class CheckpointGroup {
    /** The group card's name inside a group folder. */
    public static final String CARD = "group.json";
    /** The group card's {@code format}. */
    public static final String FORMAT = "advspark-checkpoint-group";
    private static final ObjectMapper JSON = new ObjectMapper();

    private CheckpointGroup() {}

    /**
     * The member files of a group entry, each with its card and the share of the group's weight
     * ({@code weight / members}); every member's {@code group} is the entry's path.
     *
     * @throws ConfigException naming the entry when it lists no member, a listed file is missing or
     *     the group card does not parse
     */
    public static List<ModelSource> members(ModelSource group, Storage storage) {
        String path = stripSlash(group.path());
        List<String[]> files; // {pt, card}
        try {
            int slash = path.lastIndexOf('/');
            String last = path.substring(slash + 1);
            if (last.contains("*") || last.contains("?")) {
                String dir = path.substring(0, slash);
                Pattern glob = globPattern(last);
                files = new ArrayList<>();
                List<String> names = new ArrayList<>(storage.listFileNames(dir));
                names.sort(null);
                for (String name : names) {
                    if (glob.matcher(name).matches() && name.endsWith(".pt")) {
                        files.add(new String[] {dir + "/" + name, dir + "/" + stem(name) + ".json"});
                    }
                }
            } else if (group.card() != null && storage.isFile(group.card())) {
                files = fromCard(path, group.card(), storage.readAll(group.card()));
            } else if (group.card() != null && !group.card().equals(path + "/" + CARD)) {
                throw new ConfigException("checkpoint group " + group.path() + ": group card " + group.card()
                        + ": file not found");
            } else {
                files = new ArrayList<>();
                List<String> names = new ArrayList<>(storage.listFileNames(path));
                names.sort(null);
                for (String name : names) {
                    if (name.endsWith(".pt")) {
                        files.add(new String[] {path + "/" + name, path + "/" + stem(name) + ".json"});
                    }
                }
            }
        } catch (FileNotFoundException e) {
            throw new ConfigException("checkpoint group " + group.path() + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ConfigException("checkpoint group " + group.path() + ": cannot list or read it: " + e.getMessage(), e);
        }
        if (files.isEmpty()) {
            throw new ConfigException("checkpoint group " + group.path() + " has no members: no .pt file"
                    + (path.contains("*") || path.contains("?") ? " matches the pattern" : " in the folder and no " + CARD)
                    + " (collect one with tools/collect_checkpoints.py)");
        }
        List<ModelSource> out = new ArrayList<>(files.size());
        for (String[] f : files) {
            out.add(new ModelSource(f[0], f[1], group.weight() / files.size(), group.augment(), false));
        }
        return out;
    }

    private static List<String[]> fromCard(String dir, String cardUri, byte[] bytes) throws IOException {
        JsonNode n;
        try {
            n = JSON.readTree(bytes);
        } catch (IOException e) {
            throw new ConfigException("group card " + cardUri + " is not valid JSON: " + e.getMessage(), e);
        }
        if (!FORMAT.equals(n.path("format").asText())) {
            throw new ConfigException("group card " + cardUri + ": \"format\" must be \"" + FORMAT + "\", got "
                    + n.path("format"));
        }
        JsonNode members = n.path("members");
        if (!members.isArray()) {
            throw new ConfigException("group card " + cardUri + ": \"members\" must be a list of {\"file\", \"card\"}");
        }
        List<String[]> out = new ArrayList<>();
        for (JsonNode m : members) {
            String file = m.path("file").asText("");
            if (file.isEmpty() || !file.endsWith(".pt")) {
                throw new ConfigException("group card " + cardUri + ": member " + m + " needs \"file\" (a .pt file)");
            }
            String card = m.path("card").asText(stem(file) + ".json");
            out.add(new String[] {resolve(dir, file), resolve(dir, card)});
        }
        return out;
    }

    /**
     * Checks that every member of one group can stand in for the first: same input size,
     * {@code num_classes}, {@code dataset_classes}, {@code label_offset}, mean, std and taps, and
     * no two members with the same card name.
     *
     * @throws ConfigException naming the group, the member's file and the first member's file
     */
    public static void checkMembers(String group, List<ModelBundle> members) {
        ModelBundle first = members.get(0);
        ModelCard a = first.card();
        Set<String> names = new HashSet<>();
        for (ModelBundle b : members) {
            ModelCard c = b.card();
            if (!names.add(c.name())) {
                throw new ConfigException("checkpoint group " + group + ": two members are named '" + c.name()
                        + "' (" + b.uri() + "); give each checkpoint its own card name");
            }
            String diff = null;
            if (c.inputHeight() != a.inputHeight() || c.inputWidth() != a.inputWidth()) {
                diff = "input_size [" + c.inputHeight() + ", " + c.inputWidth() + "] where the first has ["
                        + a.inputHeight() + ", " + a.inputWidth() + "]";
            } else if (c.numClasses() != a.numClasses() || c.datasetClasses() != a.datasetClasses()
                    || c.labelOffset() != a.labelOffset()) {
                diff = "num_classes/dataset_classes/label_offset " + c.numClasses() + "/" + c.datasetClasses() + "/"
                        + c.labelOffset() + " where the first has " + a.numClasses() + "/" + a.datasetClasses() + "/"
                        + a.labelOffset();
            } else if (!Arrays.equals(c.mean(), a.mean()) || !Arrays.equals(c.std(), a.std())) {
                diff = "normalisation mean " + Arrays.toString(c.mean()) + " std " + Arrays.toString(c.std())
                        + " where the first has mean " + Arrays.toString(a.mean()) + " std " + Arrays.toString(a.std());
            } else if (!c.taps().equals(a.taps())) {
                diff = "taps " + c.taps() + " where the first has " + a.taps();
            }
            if (diff != null) {
                throw new ConfigException("checkpoint group " + group + ": member " + b.uri() + " (card "
                        + b.cardUri() + ") has " + diff + " (" + first.uri() + "): the checkpoints of a group must be"
                        + " interchangeable (one architecture, one preprocessing)");
            }
        }
    }

    private static String resolve(String dir, String rel) {
        return rel.startsWith("/") || rel.matches("^[A-Za-z][A-Za-z0-9+.-]*:.*") ? rel : dir + "/" + rel;
    }

    private static String stripSlash(String p) {
        return p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    }

    private static String stem(String name) {
        int dot = name.lastIndexOf('.');
        return dot < 0 ? name : name.substring(0, dot);
    }

    private static Pattern globPattern(String glob) {
        StringBuilder b = new StringBuilder();
        for (char ch : glob.toCharArray()) {
            switch (ch) {
                case '*' -> b.append("[^/]*");
                case '?' -> b.append("[^/]");
                default -> b.append(Pattern.quote(String.valueOf(ch)));
            }
        }
        return Pattern.compile(b.toString());
    }
}
