package io.advspark.data;

import io.advspark.util.Messages;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * A Hadoop {@link FileSystem} with real renames ({@code hdfs://} and the like): a file is written
 * under a hidden temporary name in its folder, then renamed into place; create-if-absent is the
 * file system's create without overwrite (atomic at the HDFS NameNode). Reads, listings and
 * deletes go through the {@link FileSystem}; {@link LocalStorage} and {@link ObjectStoreStorage}
 * share them and replace the writes.
 */
public class HadoopStorage extends StorageBase {
    protected final Configuration conf;

    public HadoopStorage(Configuration conf) {
        this(conf, null);
    }

    protected HadoopStorage(Configuration conf, String fence) {
        super(fence);
        this.conf = conf;
    }

    @Override
    public Storage fencedTo(String folder) {
        return new HadoopStorage(conf, folder);
    }

    protected final FileSystem fs(Path p) throws IOException {
        return p.getFileSystem(conf);
    }

    // ---- reads

    @Override
    public byte[] readAll(String uri) throws IOException {
        Path p = new Path(uri);
        FileSystem fs = p.getFileSystem(conf);
        try (FSDataInputStream in = fs.open(p)) {
            return in.readAllBytes();
        } catch (FileNotFoundException e) {
            throw new FileNotFoundException(uri + ": file not found");
        }
    }

    @Override
    public InputStream open(String uri) throws IOException {
        Path p = new Path(uri);
        try {
            return p.getFileSystem(conf).open(p);
        } catch (FileNotFoundException e) {
            throw new FileNotFoundException(uri + ": file not found");
        }
    }

    @Override
    public boolean exists(String uri) throws IOException {
        Path p = new Path(uri);
        return p.getFileSystem(conf).exists(p);
    }

    @Override
    public boolean isFile(String uri) throws IOException {
        Path p = new Path(uri);
        try {
            FileStatus st = p.getFileSystem(conf).getFileStatus(p);
            return st.isFile();
        } catch (FileNotFoundException e) {
            return false;
        }
    }

    @Override
    public Map<String, Long> listFileLengths(String dirUri) throws IOException {
        Path dir = new Path(dirUri);
        FileSystem fs = dir.getFileSystem(conf);
        Map<String, Long> out = new LinkedHashMap<>();
        FileStatus[] all;
        try {
            all = fs.listStatus(dir);
        } catch (FileNotFoundException e) {
            return out;
        }
        for (FileStatus st : all) {
            String n = st.getPath().getName();
            if (st.isFile() && !n.startsWith(".") && !n.startsWith("_")) {
                out.put(n, st.getLen());
            }
        }
        return out;
    }

    @Override
    public List<Child> listChildren(String dirUri) throws IOException {
        Path dir = new Path(dirUri);
        List<Child> out = new ArrayList<>();
        try {
            for (FileStatus st : dir.getFileSystem(conf).listStatus(dir)) {
                out.add(new Child(st.getPath().getName(), st.isDirectory()));
            }
        } catch (FileNotFoundException e) {
            // no folder, no children
        }
        return out;
    }

    @Override
    public FileIterator listFiles(String dirUri) throws IOException {
        Path dir = new Path(dirUri);
        FileSystem fs = dir.getFileSystem(conf);
        if (!fs.exists(dir)) {
            return new FileIterator() {
                @Override
                public boolean hasNext() {
                    return false;
                }

                @Override
                public String next() {
                    throw new java.util.NoSuchElementException();
                }
            };
        }
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(dir, true);
        return new FileIterator() {
            @Override
            public boolean hasNext() throws IOException {
                return it.hasNext();
            }

            @Override
            public String next() throws IOException {
                return it.next().getPath().toString();
            }
        };
    }

    // ---- writes

    /** A temporary in the same folder, then a rename over the target. */
    @Override
    protected void write(String uri, byte[] bytes) throws IOException {
        Path target = new Path(uri);
        FileSystem fs = target.getFileSystem(conf);
        Path tmp = new Path(target.getParent(), tmpName(target.getName()));
        try {
            try (OutputStream out = fs.create(tmp, true)) {
                out.write(bytes);
            }
            fs.delete(target, false);
            if (!fs.rename(tmp, target)) {
                throw new IOException("could not rename " + tmp + " to " + target);
            }
        } finally {
            if (fs.exists(tmp)) {
                fs.delete(tmp, false);
            }
        }
    }

    /** The file system's create without overwrite: atomic on HDFS. */
    @Override
    protected boolean create(String uri, byte[] bytes) throws IOException {
        Path target = new Path(uri);
        FileSystem fs = target.getFileSystem(conf);
        try (OutputStream out = fs.create(target, false)) {
            out.write(bytes);
            return true;
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
            return false;
        }
    }

    @Override
    public boolean createIsAtomic(String uri) throws IOException {
        fs(new Path(uri)); // an unreachable store says so here, as before
        return true;
    }

    /** {@link FileSystem#rename}: atomic on HDFS. */
    @Override
    protected void doRename(String fromUri, String toUri) throws IOException {
        Path from = new Path(fromUri);
        Path to = new Path(toUri);
        FileSystem fs = from.getFileSystem(conf);
        if (fs.exists(to)) {
            throw new java.nio.file.FileAlreadyExistsException(Storage.redact(toUri));
        }
        fs.mkdirs(to.getParent());
        if (!fs.rename(from, to)) {
            throw new IOException("could not rename " + Storage.redact(fromUri) + " to " + Storage.redact(toUri));
        }
    }

    @Override
    protected boolean doDelete(String uri, boolean recursive) throws IOException {
        Path p = new Path(uri);
        return p.getFileSystem(conf).delete(p, recursive);
    }

    @Override
    public List<String> deleteTemporaries(String dirUri) throws IOException {
        List<String> removed = new ArrayList<>();
        Path dir = new Path(dirUri);
        FileSystem fs = dir.getFileSystem(conf);
        if (!fs.exists(dir)) {
            return removed;
        }
        String root = dir.toUri().getPath();
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(dir, true);
        while (it.hasNext()) {
            Path p = it.next().getPath();
            if (Storage.isTemporary(p.getName())) {
                requireWritable(dirUri + p.toUri().getPath().substring(root.length()));
                if (fs.delete(p, false)) {
                    removed.add(p.toUri().getPath().substring(root.length() + 1));
                }
            }
        }
        return removed;
    }

    // ---- the write probe

    /** The file system the probe of {@link #checkWritable} runs on (the cached one here). */
    protected FileSystem probeFileSystem(Path dir) throws IOException {
        return dir.getFileSystem(conf);
    }

    /** Whether {@link #probeFileSystem} gave a client of its own, closed after the probe. */
    protected boolean ownsProbeFileSystem(Path dir) {
        return false;
    }

    /** Writes the probe file (its folder created) and deletes it. */
    protected void probe(FileSystem fs, Path dir, Path probe) throws IOException {
        fs.mkdirs(dir);
        try (OutputStream out = fs.create(probe, true)) {
            out.write(1);
        }
        fs.delete(probe, false);
    }

    @Override
    public void checkWritable(String dirUri) throws IOException {
        Path dir = new Path(dirUri);
        boolean owned = ownsProbeFileSystem(dir);
        FileSystem fs;
        try {
            fs = probeFileSystem(dir);
        } catch (IOException | RuntimeException e) {
            throw new IOException("output store " + Storage.redact(dirUri) + " is not reachable: " + e.getMessage(), e);
        }
        Path probe = new Path(dir, PROBE_PREFIX + Long.toHexString(System.nanoTime()));
        Path created = null;
        boolean probeGone = false;
        boolean reachable = true;
        try {
            created = firstMissing(fs, dir);
            probe(fs, dir, probe);
            probeGone = true;
        } catch (IOException | RuntimeException e) {
            StoreWriteException w = StoreWriteException.of(dirUri, e);
            if (w.full() || w.readOnly()) {
                // A full or read-only store: a write failure. Refused credentials or permissions
                // stay a configuration error, as a mistyped endpoint does.
                throw w;
            }
            reachable = false; // nothing was created; a dead endpoint would only time out the cleanup too
            throw new IOException(
                    "output store " + Storage.redact(dirUri) + " is not writable or not reachable: "
                            + Messages.firstLine(e.getMessage()), e);
        } finally {
            // The probe leaves no trace: a run that then stops (--check, a bad manifest or model)
            // must not leave an empty round folder. The first real write creates it again.
            try {
                if (reachable && !probeGone) {
                    fs.delete(probe, false);
                }
                if (reachable) {
                    removeEmpty(fs, dir, created);
                }
            } catch (IOException | RuntimeException e) {
                // best effort: the probe's verdict is what matters
            }
            if (owned) {
                closeQuietly(fs);
            }
        }
    }

    /** The topmost folder of {@code dir} (itself or an ancestor) that does not exist yet; null if it exists. */
    private static Path firstMissing(FileSystem fs, Path dir) throws IOException {
        Path missing = null;
        for (Path p = dir; p != null && !fs.exists(p); p = p.getParent()) {
            missing = p;
        }
        return missing;
    }

    /**
     * Removes the folders from {@code dir} up to {@code top} (which this run created), each only
     * while it is empty: a file someone else put there in the meantime keeps it. A non-recursive
     * delete refuses a non-empty folder, so nothing but empty folders can go.
     */
    private static void removeEmpty(FileSystem fs, Path dir, Path top) throws IOException {
        if (top == null) {
            return;
        }
        for (Path p = dir; p != null; p = p.getParent()) {
            try {
                if (fs.listStatus(p).length > 0 || !fs.delete(p, false)) {
                    return;
                }
            } catch (FileNotFoundException e) {
                // gone already
            } catch (IOException e) {
                return; // not empty after all, or not ours to remove: leave it
            }
            if (p.equals(top)) {
                return;
            }
        }
    }

    private static void closeQuietly(FileSystem fs) {
        try {
            fs.close();
        } catch (IOException | RuntimeException e) {
            // the probe's verdict is what matters
        }
    }
}
