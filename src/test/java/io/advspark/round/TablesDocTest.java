package io.advspark.round;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/tables.md documents exactly the declared columns ({@link RecordTables}, {@link EvalTables})
 * with their types: a column declared but not documented, documented but not declared, or
 * documented with another type fails here, naming it.
 *
 * <p>A table's section starts at {@code ## `records`} or a line {@code `summary`:}; its first
 * Markdown table lists the columns, each row naming one or more columns in backticks in its
 * first cell and their type in the second (one type for all, or one per column, comma-separated).
 */
class TablesDocTest {
    static final Path DOC = Path.of("docs", "tables.md");

    /** The written tables and the columns their folders add (Hive partitions not in the schema). */
    static final Map<TableSchema, Map<String, String>> TABLES = new LinkedHashMap<>();

    static {
        TABLES.put(RecordTables.ATTACKS, Map.of());
        TABLES.put(RecordTables.RECORDS, Map.of("attack", "string"));
        TABLES.put(EvalTables.PREDICTIONS, Map.of());
        TABLES.put(EvalTables.SCORES, Map.of());
        TABLES.put(EvalTables.SUMMARY, Map.of());
    }

    private static final Pattern SECTION = Pattern.compile("^(?:## `(\\w+)`|`(\\w+)`:)\\s*$");
    private static final Pattern NAME = Pattern.compile("`([a-z0-9_]+)`");

    static String docType(ColumnType t) {
        return switch (t) {
            case STRING -> "string";
            case INT -> "int";
            case LONG -> "long";
            case DOUBLE -> "double";
            case BOOLEAN -> "boolean";
            case INT_ARRAY -> "array<int>";
            case STRING_ARRAY -> "array<string>";
        };
    }

    /** Each table's documented columns (name -> type), in the order documented. */
    static Map<String, Map<String, String>> documented(List<String> lines) {
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        String table = null;
        boolean inTable = false;
        for (String line : lines) {
            Matcher m = SECTION.matcher(line.strip());
            if (m.matches()) {
                table = m.group(1) != null ? m.group(1) : m.group(2);
                inTable = false;
                continue;
            }
            if (table == null) {
                continue;
            }
            if (!line.startsWith("|")) {
                if (inTable) { // the section's column table ended
                    table = null;
                    inTable = false;
                }
                continue;
            }
            String[] cells = line.split("\\|", -1);
            String first = cells[1].strip();
            if (!inTable) { // header row
                inTable = true;
                continue;
            }
            if (first.startsWith("---")) {
                continue;
            }
            List<String> names = new ArrayList<>();
            Matcher n = NAME.matcher(first);
            while (n.find()) {
                names.add(n.group(1));
            }
            String[] types = cells[2].strip().split("\\s*,\\s*");
            assertTrue(!names.isEmpty() && (types.length == 1 || types.length == names.size()),
                    DOC + ", table " + table + ": a row must name its columns in backticks and give one type, or one per"
                            + " column: " + line);
            Map<String, String> cols = out.computeIfAbsent(table, k -> new LinkedHashMap<>());
            for (int i = 0; i < names.size(); i++) {
                String previous = cols.put(names.get(i), types.length == 1 ? types[0] : types[i]);
                assertEquals(null, previous, DOC + ", table " + table + ": column " + names.get(i) + " documented twice");
            }
        }
        return out;
    }

    @Test
    void everyDeclaredColumnIsDocumentedWithItsTypeAndNothingElse() throws Exception {
        Map<String, Map<String, String>> doc = documented(Files.readAllLines(DOC));
        List<String> problems = new ArrayList<>();
        for (Map.Entry<TableSchema, Map<String, String>> t : TABLES.entrySet()) {
            String table = t.getKey().table();
            Map<String, String> declared = new TreeMap<>(t.getValue());
            for (Column c : t.getKey().columns()) {
                declared.put(c.name(), docType(c.type()));
            }
            Map<String, String> documented = doc.getOrDefault(table, Map.of());
            if (documented.isEmpty()) {
                problems.add(table + ": no column table in " + DOC + " (a section `## `" + table + "`` or `" + table + "`:`)");
                continue;
            }
            for (Map.Entry<String, String> c : declared.entrySet()) {
                String type = documented.get(c.getKey());
                if (type == null) {
                    problems.add(table + "." + c.getKey() + " (" + c.getValue() + ") is declared but not documented");
                } else if (!type.equals(c.getValue())) {
                    problems.add(table + "." + c.getKey() + " is " + c.getValue() + " but documented as " + type);
                }
            }
            for (String name : documented.keySet()) {
                if (!declared.containsKey(name)) {
                    problems.add(table + "." + name + " is documented but not declared");
                }
            }
        }
        assertEquals(List.of(), problems, "docs/tables.md against RecordTables/EvalTables");
    }

    @Test
    void theCheckSeesAMissingAndAnExtraColumn() {
        List<String> lines = List.of("`summary`:", "", "| column | type | meaning |", "|---|---|---|",
                "| `a`, `b` | long, double | x |", "| `c` | array<string> | y |", "", "text");
        Map<String, Map<String, String>> doc = documented(lines);
        assertEquals(Map.of("summary", Map.of("a", "long", "b", "double", "c", "array<string>")), doc);
    }
}
