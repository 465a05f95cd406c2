package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.data.InMemoryStorage;
import io.advspark.data.Png;
import io.advspark.data.RgbImage;
import io.advspark.data.Storage;
import io.advspark.plan.DatasetConfig;
import io.advspark.round.BatchScorer;
import io.advspark.round.RoundLayout;
import java.io.FileNotFoundException;
import java.util.List;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** The round's reads and writes through {@link Storage}, on the in-memory store (no Spark, no file system). */
class RoundStorageTest {
    private static final String ROUND = "mem://out/r";

    @Test
    void hasDataFilesSeesOnlyParquetDataFilesAtAnyDepth() throws Exception {
        InMemoryStorage store = new InMemoryStorage();
        String records = RoundLayout.at(ROUND).records();
        assertFalse(RoundState.hasDataFiles(store, records), "no folder");
        store.writeAtomically(records + "/_SUCCESS", new byte[0]);
        store.writeAtomically(records + "/attack=mi/._tmp.part-1.parquet.1f", new byte[1]);
        store.writeAtomically(records + "/attack=mi/_part-2.parquet", new byte[1]);
        store.writeAtomically(records + "/attack=mi/notes.txt", new byte[1]);
        assertFalse(RoundState.hasDataFiles(store, records), "markers, temporaries and other files");
        store.writeAtomically(records + "/attack=mi/part-3.parquet", new byte[1]);
        assertTrue(RoundState.hasDataFiles(store, records));
    }

    @Test
    void aRecordFileIsCommittedWholeAndReadsBack() throws Exception {
        InMemoryStorage store = new InMemoryStorage();
        Storage fenced = store.fencedTo(ROUND);
        StructType schema = new StructType().add("image_id", DataTypes.StringType).add("png_bytes", DataTypes.LongType);
        String file = RoundLayout.at(ROUND).batchFile("mi", List.of("a.png", "b.png"));
        ParquetFiles.write(fenced, file, schema, List.of(RowFactory.create("a.png", 10L), RowFactory.create("b.png", 20L)));
        assertEquals(List.of(file), store.files(), "one file, no temporary");
        try (ParquetFileReader r = ParquetFileReader.open(ParquetFiles.inputFile(store, file))) {
            assertEquals(2, r.getRecordCount());
            assertEquals(ParquetFiles.messageType(schema), r.getFooter().getFileMetaData().getSchema());
        }
        assertThrows(io.advspark.data.UriPaths.OutsideRoundException.class,
                () -> ParquetFiles.write(fenced, "mem://out/r2/part-1.parquet", schema, List.of()));
    }

    @Test
    void cleanImagesAreFoundThroughTheDatasetLayout() throws Exception {
        InMemoryStorage store = new InMemoryStorage();
        DatasetConfig dataset = new DatasetConfig("mem://data/dev", "tianchi", "dev.csv", 1, 0, 0);
        RgbImage img = new RgbImage(2, 3, new byte[2 * 3 * 3]);
        store.writeAtomically("mem://data/dev/flat.png", Png.encode(img));
        RgbImage read = BatchScorer.readClean(store, dataset, "flat.png");
        assertEquals(2, read.height());
        assertArrayEquals(img.pixels(), read.pixels());
        FileNotFoundException e = assertThrows(FileNotFoundException.class,
                () -> BatchScorer.readClean(store, dataset, "gone.png"));
        assertEquals("clean image not found: mem://data/dev/images/gone.png", e.getMessage());
    }
}
