package io.advspark.round;

/** The value types of advspark's tables, each with the Java class its values have in a row. */
public enum ColumnType {
    STRING(String.class),
    INT(Integer.class),
    LONG(Long.class),
    DOUBLE(Double.class),
    BOOLEAN(Boolean.class),
    /** An array of non-null ints (top-5 labels), held as {@code Integer[]} in a row. */
    INT_ARRAY(Integer[].class),
    /** An array of strings whose elements may be null (defense stages), held as {@code String[]} in a row. */
    STRING_ARRAY(String[].class);

    private final Class<?> javaType;

    ColumnType(Class<?> javaType) {
        this.javaType = javaType;
    }

    /** The class a row value of this column has (when not null). */
    public Class<?> javaType() {
        return javaType;
    }
}
