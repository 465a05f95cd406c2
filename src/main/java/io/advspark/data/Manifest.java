package io.advspark.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a Tianchi/NIPS-2017 manifest. A malformed file (no header, missing columns) is fatal; a
 * malformed row becomes a {@link ManifestRow} with an error naming the file and line, so one bad
 * row never stops a round. A duplicate ImageId is fatal too: an image's outputs and records are
 * keyed by (attack, ImageId), so two rows with one id would write one PNG twice and give the key
 * two rows, and which of them is meant cannot be guessed.
 */
public final class Manifest {
    private Manifest() {}

    /**
     * The manifest's column names. An empty {@code targetClass} means the file has none: each
     * row's target class is then {@link #drawnTarget drawn} from its ImageId.
     */
    public record Columns(String imageId, String trueLabel, String targetClass) implements java.io.Serializable {
        public static final Columns TIANCHI = new Columns("ImageId", "TrueLabel", "TargetClass");

        public boolean drawsTargets() {
            return targetClass.isEmpty();
        }
    }

    /**
     * The target class of an image whose manifest gives none: fixed by its ImageId (CRC32), never
     * its true class, spread evenly over the other classes. 0-based labels.
     */
    public static int drawnTarget(String imageId, int trueLabel0, int classes) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(imageId.getBytes(StandardCharsets.UTF_8));
        return (int) ((trueLabel0 + 1 + crc.getValue() % (classes - 1)) % classes);
    }

    /** {@link #parse(InputStream, String, int, int, int, Columns)} with the Tianchi columns. */
    public static List<ManifestRow> parse(
            InputStream in, String name, int labelBase, int numClasses, int limit) throws IOException {
        return parse(in, name, labelBase, numClasses, limit, Columns.TIANCHI);
    }

    /** The file itself is wrong (not a row of it): the round cannot start. */
    public static final class ManifestException extends IOException {
        public ManifestException(String message) {
            super(message);
        }
    }

    /**
     * Parses the CSV.
     *
     * @param in the CSV bytes (UTF-8)
     * @param name file name for messages
     * @param labelBase 0 or 1: smallest valid label
     * @param numClasses number of dataset classes, or 0 when unknown (no range check)
     * @param limit keep the first N data rows; 0 for all
     */
    public static List<ManifestRow> parse(
            InputStream in, String name, int labelBase, int numClasses, int limit, Columns columns) throws IOException {
        String wanted = columns.imageId() + "," + columns.trueLabel() + (columns.drawsTargets() ? "" : "," + columns.targetClass());
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        String header = r.readLine();
        if (header == null) {
            throw new IOException(name + ": empty manifest (expected header " + wanted + ")");
        }
        if (header.startsWith("\uFEFF")) {
            header = header.substring(1);
        }
        List<String> cols = splitCsv(header);
        int idCol = indexOf(cols, columns.imageId());
        int trueCol = indexOf(cols, columns.trueLabel());
        int targetCol = columns.drawsTargets() ? -1 : indexOf(cols, columns.targetClass());
        if (idCol < 0 || trueCol < 0 || (targetCol < 0 && !columns.drawsTargets())) {
            throw new IOException(name + ": header must contain " + wanted.replace(",", ", ") + ", got: " + header
                    + " (advspark.dataset.columns names them; target-class = \"\" draws the targets)");
        }
        if (columns.drawsTargets() && numClasses < 2) {
            throw new IOException(name + ": drawing target classes needs the models' class count");
        }
        List<ManifestRow> rows = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        String line;
        int lineNo = 1;
        while ((line = r.readLine()) != null) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            String id = imageId(line, idCol);
            Integer first = id.isEmpty() ? null : seen.putIfAbsent(id, lineNo);
            if (first != null) {
                throw new ManifestException(name + ": ImageId '" + id + "' is on line " + first + " and line " + lineNo
                        + " (each image may be listed once)");
            }
            // Past dataset.limit the rows are only read for duplicates: the limit is a sample of the
            // dataset, and a file that is wrong should fail on the small trial run already, not
            // first on the full run that follows it (the whole file is small next to its images).
            if (limit > 0 && rows.size() >= limit) {
                continue;
            }
            rows.add(parseRow(line, lineNo, name, idCol, trueCol, targetCol, labelBase, numClasses));
        }
        return rows;
    }

    /** The ImageId of a data line as parseRow reads it; "" when the line has no readable id (parseRow reports it). */
    private static String imageId(String line, int idCol) {
        try {
            List<String> f = splitCsv(line);
            return idCol < f.size() ? f.get(idCol).trim() : "";
        } catch (IllegalArgumentException e) {
            return "";
        }
    }

    private static ManifestRow parseRow(
            String line,
            int lineNo,
            String name,
            int idCol,
            int trueCol,
            int targetCol,
            int labelBase,
            int numClasses) {
        String where = name + " line " + lineNo + ": ";
        List<String> f;
        try {
            f = splitCsv(line);
        } catch (IllegalArgumentException e) {
            return new ManifestRow(lineNo, "<line " + lineNo + ">", -1, -1, where + e.getMessage());
        }
        String id = idCol < f.size() ? f.get(idCol).trim() : "";
        String shownId = id.isEmpty() ? "<line " + lineNo + ">" : id;
        int need = Math.max(idCol, Math.max(trueCol, targetCol)) + 1; // targetCol -1: drawn
        if (f.size() < need) {
            return new ManifestRow(
                    lineNo, shownId, -1, -1, where + "expected " + need + " fields, got " + f.size());
        }
        String idProblem = ImageIds.problem(id);
        if (idProblem != null) {
            return new ManifestRow(lineNo, shownId, -1, -1, where + idProblem);
        }
        int t;
        int g;
        try {
            t = parseLabel(f.get(trueCol), "TrueLabel", labelBase, numClasses);
            g = targetCol < 0 ? labelBase + drawnTarget(id, t - labelBase, numClasses)
                    : parseLabel(f.get(targetCol), "TargetClass", labelBase, numClasses);
        } catch (IllegalArgumentException e) {
            return new ManifestRow(lineNo, id, -1, -1, where + e.getMessage());
        }
        return new ManifestRow(lineNo, id, t, g, null);
    }

    private static int parseLabel(String raw, String column, int labelBase, int numClasses) {
        String s = raw.trim();
        int v;
        try {
            v = Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(column + " '" + s + "' is not an integer");
        }
        if (v < labelBase || (numClasses > 0 && v >= labelBase + numClasses)) {
            String range =
                    numClasses > 0
                            ? labelBase + ".." + (labelBase + numClasses - 1)
                            : ">= " + labelBase;
            throw new IllegalArgumentException(
                    column + " " + v + " is out of range " + range + " (label-base " + labelBase + ")");
        }
        return v;
    }

    private static int indexOf(List<String> cols, String name) {
        for (int i = 0; i < cols.size(); i++) {
            if (cols.get(i).trim().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    /** A CSV field, quoted when it has to be. */
    static String quote(String field) {
        return field.contains(",") || field.contains("\"") ? "\"" + field.replace("\"", "\"\"") + "\"" : field;
    }

    /** RFC-4180 field splitting of one line (quotes, doubled quotes). */
    static List<String> splitCsv(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                        cur.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    cur.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                out.add(cur.toString());
                cur.setLength(0);
            } else if (c != '\r') {
                cur.append(c);
            }
        }
        if (quoted) {
            throw new IllegalArgumentException("unterminated quoted field");
        }
        out.add(cur.toString());
        return out;
    }
}
