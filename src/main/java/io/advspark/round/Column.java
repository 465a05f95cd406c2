package io.advspark.round;

/**
 * One column of a table advspark writes.
 *
 * @param name the column name in Parquet
 * @param type its value type
 * @param nullable whether a row may hold null there
 */
public record Column(String name, ColumnType type, boolean nullable) {
    public static Column required(String name, ColumnType type) {
        return new Column(name, type, false);
    }

    public static Column optional(String name, ColumnType type) {
        return new Column(name, type, true);
    }
}
