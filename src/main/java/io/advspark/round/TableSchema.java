package io.advspark.round;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The columns of one table, in the order rows hold their values. Spark-free: the Spark adapter
 * turns it into a {@code StructType} ({@code job.SparkTables}). New columns go at the end, so
 * files written before them still read.
 *
 * @param table the table's folder name under the round
 * @param columns its columns in order
 */
public record TableSchema(String table, List<Column> columns) {
    public TableSchema {
        columns = List.copyOf(columns);
    }

    public static TableSchema of(String table, Column... columns) {
        return new TableSchema(table, List.of(columns));
    }

    public List<String> names() {
        return columns.stream().map(Column::name).toList();
    }

    /** The position of column {@code name}; fails on a name the table does not have. */
    public int index(String name) {
        for (int i = 0; i < columns.size(); i++) {
            if (columns.get(i).name().equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException(table + " has no column '" + name + "' (columns: " + names() + ")");
    }

    /**
     * Checks a row's values against the columns: count, nullability and Java types, naming the
     * column at fault. Row builders call it, so a misplaced value fails where it is made.
     */
    public Object[] check(Object[] values) {
        if (values.length != columns.size()) {
            throw new IllegalArgumentException(table + ": a row has " + values.length + " values for " + columns.size()
                    + " columns");
        }
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < values.length; i++) {
            Column c = columns.get(i);
            Object v = values[i];
            if (v == null ? !c.nullable() : !c.type().javaType().isInstance(v)) {
                bad.add(c.name() + "=" + (v == null ? "null" : v.getClass().getSimpleName() + " " + Objects.toString(v)));
            }
        }
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException(table + ": values that do not fit their columns: " + bad);
        }
        return values;
    }
}
