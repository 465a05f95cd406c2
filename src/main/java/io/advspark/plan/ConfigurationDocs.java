package io.advspark.plan;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Generates the key reference of {@code docs/configuration.md} from {@code reference.conf}, the
 * file that also defines which keys a round may set: one row per key (or per run of keys that share
 * a comment), its default and the comment written above it. The page's prose around the table is
 * written by hand; the table sits between the two markers below. {@code tools/generate-docs}
 * rewrites it; {@code ConfigurationDocsTest} fails while it is stale.
 */
public final class ConfigurationDocs {
    static final String BEGIN = "<!-- Generated from src/main/resources/reference.conf by io.advspark.plan.ConfigurationDocs;"
            + " do not edit between these markers. Regenerate with tools/generate-docs. -->";
    static final String END = "<!-- End of the generated key reference. -->";
    private static final Pattern KEY = Pattern.compile("^([A-Za-z][A-Za-z0-9-]*)\\s*(=\\s*(.*)|\\{\\s*(.*))$");
    /** A mention of another page, with a section in quotes: {@code docs/operations.md "GPU executors"}. */
    private static final Pattern DOC = Pattern.compile("docs/([a-z0-9-]+\\.md)(?: \"([^\"]+)\")?");

    private ConfigurationDocs() {}

    /** Rewrites the generated part of {@code <docs>/configuration.md} (argument: the docs folder). */
    public static void main(String[] args) throws IOException {
        Path page = Path.of(args.length > 0 ? args[0] : "docs", "configuration.md");
        Files.writeString(page, apply(Files.readString(page)), StandardCharsets.UTF_8);
        System.out.println("wrote " + page);
    }

    /** {@code page} with the text between its markers replaced by the table. */
    public static String apply(String page) throws IOException {
        int b = page.indexOf(BEGIN);
        int e = page.indexOf(END);
        if (b < 0 || e < b) {
            throw new IllegalArgumentException("configuration.md lacks the markers of the generated key reference");
        }
        return page.substring(0, b) + BEGIN + "\n\n" + table() + "\n" + page.substring(e);
    }

    /** A row: keys sharing one comment, their defaults, the comment. */
    private record Row(List<String> keys, List<String> defaults, String meaning) {}

    /** The Markdown table of every key of reference.conf. */
    public static String table() throws IOException {
        List<Row> rows = rows(referenceLines());
        StringBuilder out = new StringBuilder("| key | default | meaning |\n|---|---|---|\n");
        for (Row r : rows) {
            out.append("| ").append(String.join(", ", r.keys().stream().map(k -> "`" + k + "`").toList()))
                    .append(" | ").append(String.join(", ", r.defaults().stream().map(ConfigurationDocs::code).toList()))
                    .append(" | ").append(cell(r.meaning())).append(" |\n");
        }
        return out.toString();
    }

    static List<String> referenceLines() throws IOException {
        try (InputStream in = ConfigurationDocs.class.getResourceAsStream("/reference.conf")) {
            if (in == null) {
                throw new IOException("reference.conf is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
    }

    /**
     * Walks the file: a comment block belongs to the key or block that follows it; keys that follow
     * a key without a comment of their own share its row; a block's comment heads its first key's
     * row when that key has none, else gets a row of its own. The root block {@code advspark} is
     * left out of the names.
     */
    static List<Row> rows(List<String> lines) {
        List<Row> rows = new ArrayList<>();
        Deque<String> path = new ArrayDeque<>();
        List<String> comment = new ArrayList<>();
        String blockComment = null;
        Row last = null;
        boolean fileHeader = true;
        for (String raw : lines) {
            String line = raw.strip();
            if (line.startsWith("#")) {
                comment.add(line.replaceFirst("^#\\s?", ""));
                continue;
            }
            if (line.isEmpty()) {
                if (fileHeader && !comment.isEmpty()) {
                    comment.clear(); // the file's own header
                }
                last = null;
                continue;
            }
            if (line.equals("}")) {
                path.pop();
                last = null;
                continue;
            }
            Matcher m = KEY.matcher(line);
            if (!m.matches()) {
                throw new IllegalArgumentException("reference.conf: cannot read line: " + raw);
            }
            String key = m.group(1);
            boolean opens = m.group(4) != null && !m.group(4).contains("}");
            String value = m.group(3) != null ? m.group(3) : line.substring(line.indexOf('{'));
            if (fileHeader) {
                fileHeader = false;
                comment.clear(); // the file's own header, above the root block
                path.push(key);
                continue;
            }
            if (opens) {
                blockComment = comment.isEmpty() ? null : String.join("\n", comment);
                comment.clear();
                path.push(key);
                last = null;
                continue;
            }
            String name = name(path, key);
            if (comment.isEmpty() && last != null) {
                last.keys().add(name);
                last.defaults().add(value);
            } else {
                String meaning = String.join("\n", comment);
                if (blockComment != null) {
                    if (comment.isEmpty()) {
                        meaning = blockComment;
                    } else {
                        rows.add(new Row(new ArrayList<>(List.of(name(path, null))), new ArrayList<>(List.of("")),
                                blockComment));
                    }
                    blockComment = null;
                }
                last = new Row(new ArrayList<>(List.of(name)), new ArrayList<>(List.of(value)), meaning);
                rows.add(last);
            }
            comment.clear();
        }
        return rows;
    }

    private static String name(Deque<String> path, String key) {
        List<String> parts = new ArrayList<>(path);
        java.util.Collections.reverse(parts);
        parts.remove(0); // advspark
        if (key != null) {
            parts.add(key);
        }
        return String.join(".", parts);
    }

    private static String code(String value) {
        return value.isEmpty() ? "" : "`" + value.replace("|", "\\|") + "`";
    }

    /** A comment as one table cell: lines joined, pipes escaped, references to other pages linked. */
    private static String cell(String comment) {
        StringBuilder b = new StringBuilder();
        int previousIndent = 0;
        boolean previousExample = false;
        for (String l : comment.split("\n")) {
            String t = l.strip();
            if (t.isEmpty()) {
                continue;
            }
            // A line indented in the comment starts a line of its own (an example reads as code),
            // unless it is indented deeper than the indented line before it: its continuation.
            int indent = l.length() - l.stripLeading().length();
            boolean codeLike = !t.contains("`") && (t.contains("=") || "{[]".indexOf(t.charAt(0)) >= 0);
            boolean continued = previousIndent > 0 && indent > previousIndent && !codeLike;
            boolean indented = indent >= 2 && !continued;
            previousIndent = continued ? previousIndent : indent;
            boolean code = indented && codeLike;
            if (b.length() > 0) {
                b.append(indented || previousExample && indent == 0 ? "<br>" : " ");
            }
            previousExample = indented;
            b.append(code ? "`" + t.replace("|", "\\|") + "`" : html(t).replace("|", "\\|"));
        }
        String s = b.toString();
        StringBuilder linked = new StringBuilder();
        Matcher m = DOC.matcher(s);
        int at = 0;
        while (m.find()) {
            linked.append(s, at, m.start()).append('[').append(m.group()).append("](").append(m.group(1))
                    .append(m.group(2) == null ? "" : "#" + anchor(m.group(2))).append(')');
            at = m.end();
        }
        return linked.append(s.substring(at)).toString();
    }

    /** Text outside code: angle brackets shown, not taken for HTML tags. */
    private static String html(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /** GitHub's heading anchor: lower case, punctuation dropped, spaces as hyphens. */
    static String anchor(String heading) {
        return heading.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9 _-]", "").replace(' ', '-');
    }
}
