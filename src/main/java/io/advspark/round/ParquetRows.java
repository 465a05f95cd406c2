package io.advspark.round;

import io.advspark.data.Storage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;

/**
 * A round's small tables read without Spark: every data file under a table folder (at any
 * depth, Hive partition folders {@code key=value} giving their column), as rows of column name
 * to value (Long, Integer, Double, Float, Boolean, String, a List of those for an array column; null
 * for a null). For commands that
 * answer in a second on a finished round ({@code report}); a Spark session costs 10 s or more to
 * start and plan a query in a cold JVM.
 */
public final class ParquetRows {
    private ParquetRows() {}

    /** Whether a listed file is a table's data file (not a checksum, marker or temporary). */
    public static boolean isDataFile(String name) {
        return name.endsWith(".parquet") && !name.startsWith(".") && !name.startsWith("_");
    }

    /** The data files under {@code dirUri}, at any depth; null when there are more than {@code max}. */
    public static List<String> dataFiles(Storage storage, String dirUri, int max) throws IOException {
        List<String> files = new ArrayList<>();
        Storage.FileIterator it = storage.listFiles(dirUri);
        while (it.hasNext()) {
            String uri = it.next();
            if (isDataFile(uri.substring(uri.lastIndexOf('/') + 1))) {
                if (files.size() == max) {
                    return null;
                }
                files.add(uri);
            }
        }
        return files;
    }

    /** The rows of every data file under {@code dirUri}; empty when it has none. */
    public static List<Map<String, Object>> read(Storage storage, Configuration conf, String dirUri) throws IOException {
        return read(conf, dirUri, dataFiles(storage, dirUri, Integer.MAX_VALUE));
    }

    /** The rows of {@code files}, data files listed under {@code dirUri} (whose partition folders give columns). */
    public static List<Map<String, Object>> read(Configuration conf, String dirUri, List<String> files) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        // Listed URIs may spell the scheme differently (file:/x against file:///x): compare paths.
        String dirPath = java.net.URI.create(dirUri).getPath();
        String base = dirPath.endsWith("/") ? dirPath : dirPath + "/";
        for (String uri : files) {
            String name = uri.substring(uri.lastIndexOf('/') + 1);
            String path = java.net.URI.create(uri).getPath();
            Map<String, Object> partition = partitionValues(path.startsWith(base) ? path.substring(base.length()) : name);
            try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), new Path(uri)).withConf(conf)
                    .build()) {
                for (Group g = reader.read(); g != null; g = reader.read()) {
                    Map<String, Object> row = new LinkedHashMap<>(partition);
                    GroupType type = g.getType();
                    for (int i = 0; i < type.getFieldCount(); i++) {
                        row.put(type.getFieldName(i), value(g, i, type.getType(i)));
                    }
                    rows.add(row);
                }
            }
        }
        return rows;
    }

    /** {@code attack=mi/part-0.parquet} gives {@code attack -> "mi"} (values kept as strings, as Spark reads them back). */
    static Map<String, Object> partitionValues(String relative) {
        Map<String, Object> out = new LinkedHashMap<>();
        String[] segments = relative.split("/");
        for (int i = 0; i < segments.length - 1; i++) {
            int eq = segments[i].indexOf('=');
            if (eq > 0) {
                out.put(segments[i].substring(0, eq), java.net.URLDecoder.decode(segments[i].substring(eq + 1),
                        java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    private static Object value(Group g, int field, Type type) {
        if (g.getFieldRepetitionCount(field) == 0) {
            return null;
        }
        if (!type.isPrimitive()) {
            return list(g.getGroup(field, 0), type.asGroupType());
        }
        return primitive(g, field, 0, type.asPrimitiveType());
    }

    /**
     * An array column (Parquet's LIST: {@code group (LIST) { repeated group list { element } }}, as
     * Spark writes {@code array<int>} and {@code array<string>}) as a list of its elements, null
     * elements kept; null for any other nested column (none in the tables read here).
     */
    private static List<Object> list(Group g, GroupType type) {
        if (type.getFieldCount() != 1 || type.getType(0).isPrimitive()
                || type.getType(0).asGroupType().getFieldCount() != 1
                || !type.getType(0).asGroupType().getType(0).isPrimitive()) {
            return null;
        }
        PrimitiveType element = type.getType(0).asGroupType().getType(0).asPrimitiveType();
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < g.getFieldRepetitionCount(0); i++) {
            Group item = g.getGroup(0, i);
            out.add(item.getFieldRepetitionCount(0) == 0 ? null : primitive(item, 0, 0, element));
        }
        return out;
    }

    private static Object primitive(Group g, int field, int index, PrimitiveType p) {
        return switch (p.getPrimitiveTypeName()) {
            case INT64 -> g.getLong(field, index);
            case INT32 -> g.getInteger(field, index);
            case DOUBLE -> g.getDouble(field, index);
            case FLOAT -> g.getFloat(field, index);
            case BOOLEAN -> g.getBoolean(field, index);
            case BINARY, FIXED_LEN_BYTE_ARRAY -> g.getString(field, index);
            default -> g.getValueToString(field, index);
        };
    }
}
