package io.advspark.data;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * Local files ({@code file:} and plain paths when the default file system is local). Writes,
 * creates, renames and the write probe go through java.nio: without Hadoop's {@code .crc} side
 * files (the images folder is a competition submission as it stands) and without its forked
 * {@code chmod} (see {@link #write}). A file is written under a hidden temporary name in its
 * folder, then moved atomically over the target; create-if-absent is a hard link of a complete
 * temporary. Reads, listings and deletes go through Hadoop's local file system, as the URIs
 * Spark reports ({@code file:/...}) are spelled the same way.
 */
public class LocalStorage extends HadoopStorage {

    public LocalStorage(Configuration conf) {
        this(conf, null);
    }

    protected LocalStorage(Configuration conf, String fence) {
        super(conf, fence);
    }

    @Override
    public Storage fencedTo(String folder) {
        return new LocalStorage(conf, folder);
    }

    /** Whether {@code fs} is Hadoop's local file system, whose paths java.nio can reach. */
    static boolean isLocal(FileSystem fs) {
        FileSystem raw = fs instanceof LocalFileSystem local ? local.getRawFileSystem() : fs;
        return raw instanceof RawLocalFileSystem;
    }

    /** The java.nio path of a local file URI. */
    private java.nio.file.Path localPath(Path p, FileSystem fs) throws IOException {
        FileSystem raw = fs instanceof LocalFileSystem local ? local.getRawFileSystem() : fs;
        if (raw instanceof RawLocalFileSystem r) {
            return r.pathToFile(p).toPath();
        }
        throw new IOException(Storage.redact(p.toString()) + " is not on the local file system");
    }

    private java.nio.file.Path localPath(String uri) throws IOException {
        Path p = new Path(uri);
        return localPath(p, fs(p));
    }

    /**
     * A temporary in the same folder, then an atomic rename over the target. Hadoop's local file
     * system would set the new file's permissions by forking {@code chmod} when its native library
     * is absent (the usual case), about 3.5 ms per file here, which made writing a small PNG cost
     * more than encoding it.
     */
    @Override
    protected void write(String uri, byte[] bytes) throws IOException {
        java.nio.file.Path target = localPath(uri);
        java.nio.file.Path dir = target.getParent();
        Files.createDirectories(dir);
        java.nio.file.Path tmp = dir.resolve(tmpName(target.getFileName().toString()));
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** A hard link of a complete temporary: atomic, and readers never see a partial file. */
    @Override
    protected boolean create(String uri, byte[] bytes) throws IOException {
        java.nio.file.Path t = localPath(uri);
        Files.createDirectories(t.getParent());
        java.nio.file.Path tmp = t.getParent().resolve(tmpName(t.getFileName().toString()));
        try {
            Files.write(tmp, bytes);
            Files.createLink(t, tmp);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** An atomic java.nio move. */
    @Override
    protected void doRename(String fromUri, String toUri) throws IOException {
        Path from = new Path(fromUri);
        FileSystem fs = fs(from);
        java.nio.file.Path target = localPath(new Path(toUri), fs);
        Files.createDirectories(target.getParent());
        if (Files.exists(target)) {
            throw new FileAlreadyExistsException(Storage.redact(toUri));
        }
        Files.move(localPath(from, fs), target, StandardCopyOption.ATOMIC_MOVE);
    }

    /** java.nio says why ("Read-only file system"); Hadoop's local mkdirs only that it failed. */
    @Override
    protected void probe(FileSystem fs, Path dir, Path probe) throws IOException {
        java.nio.file.Path p = localPath(probe, fs);
        Files.createDirectories(p.getParent());
        Files.write(p, new byte[] {1});
        Files.delete(p);
    }
}
