package io.advspark.job;

import io.advspark.round.Column;
import io.advspark.round.TableSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** The Spark side of advspark's Spark-free table schemas ({@link TableSchema}): struct types and rows. */
public final class SparkTables {
    private static final Map<TableSchema, StructType> STRUCTS = new ConcurrentHashMap<>();

    private SparkTables() {}

    /** The Spark schema of {@code schema} (cached: schemas are constants). */
    public static StructType struct(TableSchema schema) {
        return STRUCTS.computeIfAbsent(schema, s -> {
            List<StructField> fields = new ArrayList<>();
            for (Column c : s.columns()) {
                fields.add(DataTypes.createStructField(c.name(), type(c), c.nullable()));
            }
            return new StructType(fields.toArray(new StructField[0]));
        });
    }

    /** A Spark row of {@code values}, checked against {@code schema} first. */
    public static Row row(TableSchema schema, Object... values) {
        return RowFactory.create(schema.check(values));
    }

    private static DataType type(Column c) {
        return switch (c.type()) {
            case STRING -> DataTypes.StringType;
            case INT -> DataTypes.IntegerType;
            case LONG -> DataTypes.LongType;
            case DOUBLE -> DataTypes.DoubleType;
            case BOOLEAN -> DataTypes.BooleanType;
            case INT_ARRAY -> DataTypes.createArrayType(DataTypes.IntegerType, false);
            case STRING_ARRAY -> DataTypes.createArrayType(DataTypes.StringType, true);
        };
    }
}
