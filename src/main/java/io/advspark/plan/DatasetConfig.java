package io.advspark.plan;

/**
 * Where the images are and how their labels are written.
 *
 * @param uri the dataset folder (local path, file://, hdfs://, s3a://)
 * @param layout the {@link io.advspark.data.DatasetLayout} by name: {@code tianchi} (a CSV and
 *     {@code images/<ImageId>} or {@code <ImageId>}) or {@code image-folder} ({@code <class>/<file>})
 * @param manifest the CSV's file name inside {@code uri} (tianchi)
 * @param labelBase 1 for TF-slim labels 1..1000, 0 for 0-based labels
 * @param limit first N rows only; 0 for all
 * @param partitions Spark partitions; 0 to let the job choose
 * @param columns the CSV's column names (tianchi); an empty target column draws targets
 * @param classes image-folder: the class-order file inside {@code uri}, or "" for the sorted folder names
 */
public record DatasetConfig(
        String uri, String layout, String manifest, int labelBase, int limit, int partitions,
        io.advspark.data.Manifest.Columns columns, String classes)
        implements java.io.Serializable {

    /** A Tianchi-layout dataset with the standard columns. */
    public DatasetConfig(String uri, String layout, String manifest, int labelBase, int limit, int partitions) {
        this(uri, layout, manifest, labelBase, limit, partitions, io.advspark.data.Manifest.Columns.TIANCHI, "");
    }
}
