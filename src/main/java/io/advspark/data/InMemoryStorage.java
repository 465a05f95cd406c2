package io.advspark.data;

import java.io.ByteArrayInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A store in memory, for fast unit tests of code that would otherwise need a real file system:
 * {@code mem://<name>/<path>} URIs, files in a sorted map, folders implied by the files below them
 * (as on an object store; an empty folder does not exist). Every write is one atomic put, so a
 * reader sees a file whole or not at all; create-if-absent is atomic. The fenced views of one
 * store share its files. {@link #setReadOnly} makes every write fail as a read-only file system
 * does. Constructed directly: {@link Storage#of} does not resolve {@code mem://}.
 */
public final class InMemoryStorage extends StorageBase {
    private static final class Files {
        final NavigableMap<String, byte[]> data = new ConcurrentSkipListMap<>();
        volatile boolean readOnly;
    }

    private final Files files;

    public InMemoryStorage() {
        this(new Files(), null);
    }

    private InMemoryStorage(Files files, String fence) {
        super(fence);
        this.files = files;
    }

    @Override
    public Storage fencedTo(String folder) {
        return new InMemoryStorage(files, folder);
    }

    /** From now on every write, create, rename and delete fails with "Read-only file system" (or works again). */
    public void setReadOnly(boolean readOnly) {
        files.readOnly = readOnly;
    }

    /** The file URIs held, in order. */
    public List<String> files() {
        return new ArrayList<>(files.data.keySet());
    }

    /** {@code mem://name/a/b}, without a trailing slash. */
    static String key(String uri) throws IOException {
        URI u;
        try {
            u = new URI(uri);
        } catch (URISyntaxException e) {
            throw new IOException(uri + ": not a valid URI (" + e.getMessage() + ")", e);
        }
        if (!"mem".equals(u.getScheme())) {
            throw new IOException(uri + ": not a mem:// URI");
        }
        String path = u.getPath() == null ? "" : u.getPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return "mem://" + (u.getAuthority() == null ? "" : u.getAuthority()) + path;
    }

    private static String name(String key) {
        return key.substring(key.lastIndexOf('/') + 1);
    }

    /** The files strictly below folder {@code dir}. */
    private NavigableMap<String, byte[]> below(String dir) {
        String from = dir + "/";
        return files.data.subMap(from, true, dir + "0", false); // '0' follows '/'
    }

    private void checkWritableNow() throws IOException {
        if (files.readOnly) {
            throw new java.nio.file.FileSystemException(null, null, "Read-only file system");
        }
    }

    // ---- reads

    @Override
    public byte[] readAll(String uri) throws IOException {
        byte[] b = files.data.get(key(uri));
        if (b == null) {
            throw new FileNotFoundException(uri + ": file not found");
        }
        return b.clone();
    }

    @Override
    public InputStream open(String uri) throws IOException {
        return new ByteArrayInputStream(readAll(uri));
    }

    @Override
    public boolean exists(String uri) throws IOException {
        String k = key(uri);
        return files.data.containsKey(k) || !below(k).isEmpty();
    }

    @Override
    public boolean isFile(String uri) throws IOException {
        return files.data.containsKey(key(uri));
    }

    @Override
    public Map<String, Long> listFileLengths(String dirUri) throws IOException {
        String dir = key(dirUri);
        Map<String, Long> out = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> e : below(dir).entrySet()) {
            String rest = e.getKey().substring(dir.length() + 1);
            if (!rest.contains("/") && !rest.startsWith(".") && !rest.startsWith("_")) {
                out.put(rest, (long) e.getValue().length);
            }
        }
        return out;
    }

    @Override
    public List<Child> listChildren(String dirUri) throws IOException {
        String dir = key(dirUri);
        Map<String, Boolean> out = new LinkedHashMap<>();
        for (String k : below(dir).keySet()) {
            String rest = k.substring(dir.length() + 1);
            int slash = rest.indexOf('/');
            out.putIfAbsent(slash < 0 ? rest : rest.substring(0, slash), slash >= 0);
        }
        List<Child> children = new ArrayList<>();
        out.forEach((n, d) -> children.add(new Child(n, d)));
        return children;
    }

    @Override
    public FileIterator listFiles(String dirUri) throws IOException {
        Iterator<String> it = new ArrayList<>(below(key(dirUri)).keySet()).iterator();
        return new FileIterator() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public String next() {
                return it.next();
            }
        };
    }

    // ---- writes

    @Override
    protected void write(String uri, byte[] bytes) throws IOException {
        checkWritableNow();
        String k = key(uri);
        if (!below(k).isEmpty()) {
            throw new IOException(uri + " is a folder");
        }
        files.data.put(k, bytes.clone());
    }

    @Override
    protected boolean create(String uri, byte[] bytes) throws IOException {
        checkWritableNow();
        return files.data.putIfAbsent(key(uri), bytes.clone()) == null;
    }

    @Override
    public boolean createIsAtomic(String uri) {
        return true;
    }

    @Override
    protected void doRename(String fromUri, String toUri) throws IOException {
        checkWritableNow();
        String from = key(fromUri);
        String to = key(toUri);
        synchronized (files) {
            if (exists(toUri)) {
                throw new java.nio.file.FileAlreadyExistsException(Storage.redact(toUri));
            }
            byte[] b = files.data.remove(from);
            if (b == null) {
                throw new FileNotFoundException(fromUri + ": file not found");
            }
            files.data.put(to, b);
        }
    }

    @Override
    protected boolean doDelete(String uri, boolean recursive) throws IOException {
        checkWritableNow();
        String k = key(uri);
        NavigableMap<String, byte[]> below = below(k);
        if (!below.isEmpty()) {
            if (!recursive) {
                throw new IOException(uri + " is a non-empty folder");
            }
            below.clear();
            return true;
        }
        return files.data.remove(k) != null;
    }

    @Override
    public List<String> deleteTemporaries(String dirUri) throws IOException {
        String dir = key(dirUri);
        List<String> removed = new ArrayList<>();
        for (String k : new ArrayList<>(below(dir).keySet())) {
            if (Storage.isTemporary(name(k))) {
                String rel = k.substring(dir.length() + 1);
                requireWritable(Storage.join(dirUri, rel));
                if (files.data.remove(k) != null) {
                    removed.add(rel);
                }
            }
        }
        return removed;
    }

    /** Nothing to probe in memory but the read-only switch. */
    @Override
    public void checkWritable(String dirUri) throws IOException {
        key(dirUri);
        try {
            checkWritableNow();
        } catch (IOException e) {
            throw StoreWriteException.of(dirUri, e);
        }
    }
}
