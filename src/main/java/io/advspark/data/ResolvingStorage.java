package io.advspark.data;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The {@link Storage} of a Hadoop configuration: each call goes to the implementation for its
 * URI's store, as Iceberg's {@code ResolvingFileIO} does. An object-store scheme ({@link
 * Storage#isObjectStore}) is an {@link ObjectStoreStorage}; any other URI is resolved to its Hadoop
 * file system (a plain path to the default one): Hadoop's local file system is a
 * {@link LocalStorage}, any other a rename-commit {@link HadoopStorage}. The choice is made once
 * per scheme and authority. A URI whose file system cannot be resolved goes to
 * {@link HadoopStorage}, which then fails where and as it always did.
 */
public final class ResolvingStorage implements Storage {
    private enum Kind { LOCAL, HADOOP, OBJECT_STORE }

    private final Configuration conf;
    private final String fence;
    /** Scheme://authority (plain paths: "") to its kind, shared by the fenced views. */
    private final Map<String, Kind> kinds;
    private final Storage local;
    private final Storage hadoop;
    private final Storage objectStore;

    public ResolvingStorage(Configuration conf) {
        this(conf, null, new ConcurrentHashMap<>());
    }

    private ResolvingStorage(Configuration conf, String fence, Map<String, Kind> kinds) {
        this.conf = conf;
        this.fence = fence;
        this.kinds = kinds;
        this.local = new LocalStorage(conf, fence);
        this.hadoop = new HadoopStorage(conf, fence);
        this.objectStore = new ObjectStoreStorage(conf, fence);
    }

    /** The implementation that serves {@code uri}. */
    Storage resolve(String uri) {
        Path p = new Path(uri);
        java.net.URI u = p.toUri();
        String key = u.getScheme() == null ? "" : u.getScheme() + "://" + (u.getAuthority() == null ? "" : u.getAuthority());
        Kind k = kinds.get(key);
        if (k == null) {
            k = kindOf(p);
            if (k == null) {
                return hadoop; // not resolvable now: fails there as before, and is not remembered
            }
            kinds.put(key, k);
        }
        return switch (k) {
            case LOCAL -> local;
            case HADOOP -> hadoop;
            case OBJECT_STORE -> objectStore;
        };
    }

    private Kind kindOf(Path p) {
        if (Storage.isObjectStore(p.toUri().getScheme())) {
            return Kind.OBJECT_STORE; // no client needed to know it
        }
        FileSystem fs;
        try {
            fs = p.getFileSystem(conf);
        } catch (IOException | RuntimeException e) {
            return null;
        }
        if (LocalStorage.isLocal(fs)) {
            return Kind.LOCAL;
        }
        return Storage.isObjectStore(fs.getUri().getScheme()) ? Kind.OBJECT_STORE : Kind.HADOOP;
    }

    @Override
    public Storage fencedTo(String folder) {
        return new ResolvingStorage(conf, folder, kinds);
    }

    @Override
    public String requireWritable(String uri) {
        return fence == null ? uri : UriPaths.requireInside(fence, uri);
    }

    @Override
    public byte[] readAll(String uri) throws IOException {
        return resolve(uri).readAll(uri);
    }

    @Override
    public InputStream open(String uri) throws IOException {
        return resolve(uri).open(uri);
    }

    @Override
    public boolean exists(String uri) throws IOException {
        return resolve(uri).exists(uri);
    }

    @Override
    public boolean isFile(String uri) throws IOException {
        return resolve(uri).isFile(uri);
    }

    @Override
    public Map<String, Long> listFileLengths(String dirUri) throws IOException {
        return resolve(dirUri).listFileLengths(dirUri);
    }

    @Override
    public List<Child> listChildren(String dirUri) throws IOException {
        return resolve(dirUri).listChildren(dirUri);
    }

    @Override
    public FileIterator listFiles(String dirUri) throws IOException {
        return resolve(dirUri).listFiles(dirUri);
    }

    // The fence is checked before the URI is resolved: nothing, not even a client, for a URI outside it.

    @Override
    public void writeAtomically(String uri, byte[] bytes) throws IOException {
        requireWritable(uri);
        resolve(uri).writeAtomically(uri, bytes);
    }

    @Override
    public boolean createIfAbsent(String uri, byte[] bytes) throws IOException {
        requireWritable(uri);
        return resolve(uri).createIfAbsent(uri, bytes);
    }

    @Override
    public boolean createIsAtomic(String uri) throws IOException {
        return resolve(uri).createIsAtomic(uri);
    }

    @Override
    public void rename(String fromUri, String toUri) throws IOException {
        requireWritable(fromUri);
        requireWritable(toUri);
        resolve(fromUri).rename(fromUri, toUri);
    }

    @Override
    public boolean delete(String uri, boolean recursive) throws IOException {
        requireWritable(uri);
        return resolve(uri).delete(uri, recursive);
    }

    @Override
    public List<String> deleteTemporaries(String dirUri) throws IOException {
        return resolve(dirUri).deleteTemporaries(dirUri);
    }

    @Override
    public void checkWritable(String dirUri) throws IOException {
        resolve(dirUri).checkWritable(dirUri);
    }

    /** The implementation's class for {@code uri} (for tests and logs). */
    String implementationFor(String uri) {
        return resolve(uri).getClass().getSimpleName();
    }
}
