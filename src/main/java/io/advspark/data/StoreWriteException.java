package io.advspark.data;

import io.advspark.util.Messages;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.util.IdentityHashMap;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A file of a round could not be written (disk full, read-only or forbidden store, store errors
 * after the client's retries). Thrown by {@link Storage}'s writers on executors and the driver;
 * the driver finds it in whatever Spark wraps it in ({@link #find}) and reports it in one line.
 */
public final class StoreWriteException extends IOException {
    private static final long serialVersionUID = 1L;
    private static final Pattern IN_TEXT =
            Pattern.compile(Pattern.quote(StoreWriteException.class.getName()) + ": cannot write (.+?): ([^\\n]+)");

    private final String uri;
    private final String reason;

    public StoreWriteException(String uri, String reason, Throwable cause) {
        super("cannot write " + Storage.redact(uri) + ": " + reason, cause);
        this.uri = Storage.redact(uri);
        this.reason = reason;
    }

    /** {@code uri} failed with {@code cause}: the reason is the cause's own short text. */
    public static StoreWriteException of(String uri, Throwable cause) {
        return cause instanceof StoreWriteException s ? s : new StoreWriteException(uri, reason(cause), cause);
    }

    /** The path that could not be written (user-info removed). */
    public String uri() {
        return uri;
    }

    /** What the store said, in a few words ("No space left on device", "Read-only file system"). */
    public String reason() {
        return reason;
    }

    /** Whether the store is full (or over quota), as opposed to refusing or failing the write. */
    public boolean full() {
        String r = reason.toLowerCase(java.util.Locale.ROOT);
        return r.contains("no space") || r.contains("quota") || r.contains("disk full");
    }

    /** Whether the file system is mounted read-only. */
    public boolean readOnly() {
        return reason.toLowerCase(java.util.Locale.ROOT).contains("read-only");
    }

    /** Whether the store refused the write (read-only, permissions). */
    public boolean refused() {
        String r = reason.toLowerCase(java.util.Locale.ROOT);
        return r.contains("read-only") || r.contains("permission") || r.contains("access denied")
                || r.contains("forbidden") || r.contains("not permitted");
    }

    static String reason(Throwable e) {
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason(); // java.nio puts the path first in its message; the reason alone
        }
        if (e instanceof AccessDeniedException) {
            return "Permission denied";
        }
        String m = Messages.firstLine(e.getMessage());
        return m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    /**
     * The write failure behind {@code t}: in its cause chain (how Spark hands a task's exception to
     * the driver when it could deserialise it), or else named in the text of a message (a task
     * failure that reached the driver as text only).
     */
    public static Optional<StoreWriteException> find(Throwable t) {
        Set<Throwable> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (Throwable c = t; c != null && seen.add(c); c = c.getCause()) {
            if (c instanceof StoreWriteException s) {
                return Optional.of(s);
            }
            for (Throwable s : c.getSuppressed()) {
                Optional<StoreWriteException> f = find(s);
                if (f.isPresent()) {
                    return f;
                }
            }
        }
        seen.clear();
        for (Throwable c = t; c != null && seen.add(c); c = c.getCause()) {
            Matcher m = IN_TEXT.matcher(String.valueOf(c.getMessage()));
            if (m.find()) {
                return Optional.of(new StoreWriteException(m.group(1), m.group(2), t));
            }
        }
        return Optional.empty();
    }

    /**
     * The write failure behind {@code t}, a failure of someone else's writer (Spark's table writer)
     * writing {@code uri}: {@link #find} or, since such writers do not say which store failed, an
     * I/O error in the cause chain that says the store is full or read-only.
     */
    public static Optional<StoreWriteException> behind(String uri, Throwable t) {
        Optional<StoreWriteException> found = find(t);
        if (found.isPresent()) {
            return found;
        }
        Set<Throwable> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (Throwable c = t; c != null && seen.add(c); c = c.getCause()) {
            if (c instanceof IOException && fullOrReadOnly(c.getMessage())) {
                return Optional.of(new StoreWriteException(uri, reason(c), t));
            }
        }
        return Optional.empty();
    }

    /** The words with which the operating system (or HDFS) says a store is full or read-only. */
    private static boolean fullOrReadOnly(String text) {
        return text != null && (text.contains("No space left on device") || text.contains("Read-only file system")
                || text.contains("Disk quota exceeded") || text.contains("DSQuotaExceededException"));
    }

    /** Whether {@code text} (a log message, e.g. Spark's text of a failed task) reports a write failure. */
    public static boolean mentionedIn(String text) {
        return text != null && (text.contains(StoreWriteException.class.getName()) || fullOrReadOnly(text));
    }

    /** Whether {@code t} is, or is caused by, a write failure. */
    public static boolean isWriteFailure(Throwable t) {
        return behind("", t).isPresent();
    }
}
