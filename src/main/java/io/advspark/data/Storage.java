package io.advspark.data;

import io.advspark.vocabulary.Names;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * Every read and write advspark does on a round and a dataset, on any store. Callers program
 * against this interface; {@link #of(Configuration)} gives the usual implementation, which picks
 * one per URI scheme ({@link ResolvingStorage}), as Iceberg's {@code ResolvingFileIO} does:
 *
 * <ul>
 *   <li>{@link LocalStorage}: local files ({@code file:} and plain paths on a local default file
 *       system); a complete temporary is moved atomically over the target;
 *   <li>{@link HadoopStorage}: {@code hdfs:} and any other Hadoop file system with real renames;
 *       a temporary, then a rename;
 *   <li>{@link ObjectStoreStorage}: {@code s3a:}, {@code s3:}, {@code gs:}, {@code abfs:},
 *       {@code abfss:}; one direct put (an object is published only when its upload completes);
 *   <li>{@link InMemoryStorage}: {@code mem://} URIs in a map, constructed directly, for tests.
 * </ul>
 *
 * <p>Writes, renames and deletes of a storage {@link #fencedTo fenced} to a folder (a round) are
 * checked to lie inside it before anything is touched. Messages carry the URI but never the
 * configuration (which may hold credentials).
 */
public interface Storage {

    /** The storage of a Hadoop configuration: one implementation per URI scheme. */
    static Storage of(Configuration conf) {
        return new ResolvingStorage(conf);
    }

    // ---- the fence

    /**
     * This storage with every write, rename and delete checked to lie inside {@code folder} (a
     * round), by {@link UriPaths#requireInside}, before anything is touched.
     */
    Storage fencedTo(String folder);

    /** Checks that a write or delete of {@code uri} is allowed here; returns it. */
    String requireWritable(String uri);

    // ---- reads

    /** Reads a whole file; a missing one is a {@link java.io.FileNotFoundException} "{@code <uri>}: file not found". */
    byte[] readAll(String uri) throws IOException;

    /** Opens a file for reading; a missing one as in {@link #readAll}. */
    InputStream open(String uri) throws IOException;

    boolean exists(String uri) throws IOException;

    /** Whether {@code uri} is a file (false if it is missing or a folder). */
    boolean isFile(String uri) throws IOException;

    /**
     * Names of the data files directly in a folder (not sub-folders, not hidden {@code .}/{@code _}
     * files such as temporaries and Spark's markers); empty if the folder does not exist.
     */
    default List<String> listFileNames(String dirUri) throws IOException {
        return new ArrayList<>(listFileLengths(dirUri).keySet());
    }

    /**
     * Names and lengths (bytes) of the data files directly in a folder, as {@link #listFileNames}
     * lists them, from one listing: on object stores a length needs no request per file.
     */
    Map<String, Long> listFileLengths(String dirUri) throws IOException;

    /** A child of a folder: its name and whether it is a folder. */
    record Child(String name, boolean directory) {}

    /** Every child of a folder, hidden ones included; empty if the folder does not exist. */
    List<Child> listChildren(String dirUri) throws IOException;

    /** A listing read as it goes: a caller may stop early (an object store lists by pages). */
    interface FileIterator {
        boolean hasNext() throws IOException;

        /** The next file's URI, spelled the way the store lists it (Hadoop: {@code file:/a/b}). */
        String next() throws IOException;
    }

    /** Every file at any depth below a folder, hidden ones included; empty if the folder does not exist. */
    FileIterator listFiles(String dirUri) throws IOException;

    // ---- writes: all fenced

    /**
     * Writes a file so that readers never see a partial one (see the implementations for how).
     *
     * @throws StoreWriteException naming {@code uri} when the store fails the write
     */
    void writeAtomically(String uri, byte[] bytes) throws IOException;

    /**
     * Creates {@code uri} with {@code bytes} only if nothing exists under that name; false if
     * something does. Atomic where {@link #createIsAtomic} says so; on object stores a check
     * followed by a put, so callers that need exclusion read the object back.
     *
     * @throws StoreWriteException naming {@code uri} when the store fails the write
     */
    boolean createIfAbsent(String uri, byte[] bytes) throws IOException;

    /** Whether {@link #createIfAbsent} excludes a concurrent creator on this URI's store. */
    boolean createIsAtomic(String uri) throws IOException;

    /**
     * Moves a file to a new name, creating the target's folder; refuses to replace an existing
     * target ({@link java.nio.file.FileAlreadyExistsException}). Atomic on local files and HDFS;
     * a copy then a delete on object stores, where a crash in between leaves both copies.
     */
    void rename(String fromUri, String toUri) throws IOException;

    /** Deletes a file or, with {@code recursive}, a folder; false if there was nothing to delete. */
    boolean delete(String uri, boolean recursive) throws IOException;

    /**
     * Deletes, at any depth below a folder, the hidden temporaries this storage writes
     * ({@link #isTemporary}) and returns their paths relative to the folder. For a sole writer
     * only: another writer's temporary may be in flight.
     */
    List<String> deleteTemporaries(String dirUri) throws IOException;

    /**
     * Fails fast, before any work, if the output root cannot be written: a probe file is written
     * and deleted, and folders the probe created are removed again. A full or read-only store is a
     * {@link StoreWriteException}; anything else an {@link IOException} "output store X is not
     * writable or not reachable: ...".
     */
    void checkWritable(String dirUri) throws IOException;

    // ---- names

    /** Joins a folder URI and a relative name. */
    static String join(String dir, String name) {
        return dir.endsWith("/") ? dir + name : dir + "/" + name;
    }

    /** Whether a name is one of the hidden temporaries a storage writes (left by a killed writer). */
    static boolean isTemporary(String name) {
        return name.startsWith(StorageBase.TMP_PREFIX) || name.startsWith(StorageBase.PROBE_PREFIX);
    }

    /** Whether writes to this scheme are atomic per object (S3-like) rather than rename-based. */
    static boolean isObjectStore(String scheme) {
        return scheme != null && (scheme.equals("s3a") || scheme.equals("s3") || scheme.equals("gs")
                || scheme.equals("abfs") || scheme.equals("abfss"));
    }

    /** Drops any user-info part of a URI before it is shown. */
    static String redact(String uri) {
        try {
            URI u = URI.create(uri);
            if (u.getUserInfo() != null) {
                return new URI(u.getScheme(), null, u.getHost(), u.getPort(), u.getPath(), null, null).toString();
            }
        } catch (Exception e) {
            // keep as is
        }
        return uri;
    }
}
