/**
 * Where advspark's bytes live and how it reads them: storage, dataset layouts and the file formats.
 *
 * <h2>What lives here</h2>
 * <ul>
 *   <li>{@link io.advspark.data.Storage}: every read and write of a round and a dataset (read,
 *       atomic write, create-if-absent, listings, rename, delete, temporaries, the write probe),
 *       and the fence ({@link io.advspark.data.Storage#fencedTo}) that keeps a round's writes
 *       inside its folder ({@link io.advspark.data.UriPaths}). {@link io.advspark.data.Storage#of}
 *       gives {@link io.advspark.data.ResolvingStorage}, which picks an implementation per URI:
 *       {@link io.advspark.data.LocalStorage} (local files), {@link io.advspark.data.HadoopStorage}
 *       (HDFS and other rename-based Hadoop file systems) or
 *       {@link io.advspark.data.ObjectStoreStorage} (S3A and other object stores).
 *       {@link io.advspark.data.InMemoryStorage} ({@code mem://}) is constructed directly by tests.
 *       What each store guarantees is in {@code docs/writes-and-resuming.md}; a failed write is a
 *       {@link io.advspark.data.StoreWriteException} naming the file.</li>
 *   <li>{@link io.advspark.data.DatasetLayout}: where a dataset keeps its manifest and images
 *       ({@code advspark.dataset.layout}: {@link io.advspark.data.DatasetLayout.Tianchi},
 *       {@link io.advspark.data.DatasetLayout.ImageFolder}),
 *       used by the attack and the evaluation alike.</li>
 *   <li>Formats: {@link io.advspark.data.Manifest} (the CSV), {@link io.advspark.data.Png},
 *       {@link io.advspark.data.JpegCodec}, {@link io.advspark.data.RgbImage},
 *       {@link io.advspark.data.ImageIds}.</li>
 * </ul>
 *
 * <h2>Adding a storage scheme</h2>
 * <ol>
 *   <li>If the store is a Hadoop file system that behaves like one already served, nothing is
 *       needed: an object store's scheme goes into {@link io.advspark.data.Storage#isObjectStore};
 *       any other scheme with atomic renames is served by {@code HadoopStorage}.</li>
 *   <li>Otherwise implement {@code Storage}, usually by extending {@code StorageBase} (the fence
 *       and the wrapping of write failures come with it) or {@code HadoopStorage} (reads, listings
 *       and deletes through the file system; override {@code write}, {@code create},
 *       {@code doRename}, the probe). Keep the contract: a write is seen whole or not at all,
 *       temporaries are hidden names for which {@link io.advspark.data.Storage#isTemporary} is
 *       true, listings skip {@code .} and {@code _} files, {@code createIsAtomic} tells the truth
 *       (the lease relies on it), and messages never carry the configuration.</li>
 *   <li>Route its URIs in {@code ResolvingStorage.kindOf}, and test it: the contract tests of
 *       {@code InMemoryStorageTest} are a checklist; a store that needs a server gets an IT as
 *       the S3A one does with s3proxy.</li>
 * </ol>
 *
 * <h2>Adding a dataset layout</h2>
 * Implement {@link io.advspark.data.DatasetLayout} (the manifest's URI, where an image is looked
 * for first, and {@code read}, throwing {@link io.advspark.data.DatasetLayout.NotFound} for an
 * ImageId the dataset lacks; {@code manifest} when the CSV is made, not read, as ImageFolder's is
 * from its listing), add it to {@code DatasetLayout.forName} and {@code names()} (the
 * configuration check lists them), and test it on an {@code InMemoryStorage} as
 * {@code DatasetLayoutTest} does, and in a round as {@code ImageFolderRoundTest} does. The
 * manifest's format stays {@code Manifest}'s.
 */
package io.advspark.data;
