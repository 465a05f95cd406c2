package io.advspark.data;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * What every {@link Storage} implementation shares: the fence, and the wrapping of a failed write
 * into a {@link StoreWriteException} naming the file. Implementations supply the store's own
 * operations ({@code write}, {@code create}, {@code doRename}, {@code doDelete}).
 */
abstract class StorageBase implements Storage {
    /** Hidden temporaries of atomic writes (readers and listings skip {@code .} files). */
    static final String TMP_PREFIX = "._tmp.";
    /** The write probe of {@link #checkWritable}. */
    static final String PROBE_PREFIX = "._advspark_write_probe_";

    /** Writes and deletes must lie inside this folder (null: unfenced, for reads only). */
    protected final String fence;

    protected StorageBase(String fence) {
        this.fence = fence;
    }

    @Override
    public String requireWritable(String uri) {
        return fence == null ? uri : UriPaths.requireInside(fence, uri);
    }

    @Override
    public final void writeAtomically(String uri, byte[] bytes) throws IOException {
        requireWritable(uri);
        try {
            write(uri, bytes);
        } catch (IOException e) {
            throw StoreWriteException.of(uri, e);
        } catch (UncheckedIOException e) {
            throw StoreWriteException.of(uri, e.getCause());
        }
    }

    @Override
    public final boolean createIfAbsent(String uri, byte[] bytes) throws IOException {
        requireWritable(uri);
        try {
            return create(uri, bytes);
        } catch (IOException e) {
            throw StoreWriteException.of(uri, e);
        }
    }

    @Override
    public final void rename(String fromUri, String toUri) throws IOException {
        requireWritable(fromUri);
        requireWritable(toUri);
        doRename(fromUri, toUri);
    }

    @Override
    public final boolean delete(String uri, boolean recursive) throws IOException {
        requireWritable(uri);
        return doDelete(uri, recursive);
    }

    /** Writes {@code bytes} so that readers see all or nothing (the fence is checked). */
    protected abstract void write(String uri, byte[] bytes) throws IOException;

    /** Creates {@code uri} unless something exists there (the fence is checked). */
    protected abstract boolean create(String uri, byte[] bytes) throws IOException;

    /** Renames, refusing an existing target (the fence is checked for both). */
    protected abstract void doRename(String fromUri, String toUri) throws IOException;

    /** Deletes (the fence is checked). */
    protected abstract boolean doDelete(String uri, boolean recursive) throws IOException;

    /**
     * The hidden temporary beside {@code name}, unique per thread and call, so two attempts of one
     * task never share one.
     */
    static String tmpName(String name) {
        return TMP_PREFIX + name + "." + Long.toHexString(Thread.currentThread().getId())
                + Long.toHexString(System.nanoTime());
    }
}
