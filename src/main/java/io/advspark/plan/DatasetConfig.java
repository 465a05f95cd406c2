package io.advspark.plan;

/**
 * Where the images are and how their labels are written.
 *
 * @param uri folder in the Tianchi/NIPS-2017 layout (local path, file://, hdfs://, s3a://)
 * @param layout the {@link io.advspark.data.DatasetLayout} by name; only {@code tianchi} today: {@code images/<ImageId>}
 *     (or {@code <ImageId>}) plus a CSV
 * @param manifest the CSV's file name inside {@code uri}
 * @param labelBase 1 for TF-slim labels 1..1000, 0 for 0-based labels
 * @param limit first N rows only; 0 for all
 * @param partitions Spark partitions; 0 to let the job choose
 */
public record DatasetConfig(
        String uri, String layout, String manifest, int labelBase, int limit, int partitions)
        implements java.io.Serializable {}
