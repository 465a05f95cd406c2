package io.advspark.round;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Hive partition folders give their columns, decoded as Spark writes them. */
class ParquetRowsTest {
    @Test
    void partitionFoldersGiveColumns() {
        assertEquals(Map.of("attack", "mi-di"), ParquetRows.partitionValues("attack=mi-di/part-1.parquet"));
        assertEquals(Map.of("attack", "a b", "target", "t"), ParquetRows.partitionValues("attack=a%20b/target=t/part-1.parquet"));
        assertEquals(Map.of(), ParquetRows.partitionValues("part-00000.parquet"));
    }
}
