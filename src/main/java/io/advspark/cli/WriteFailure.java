package io.advspark.cli;

import io.advspark.data.StoreWriteException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A round stopped because a file could not be written. The user gets one line (path, round, what
 * to do, where the details are); the stack trace, wrapped in Spark's task-failure text, goes to the
 * log file only (logger {@code advspark.failure}, see log4j2.properties).
 */
final class WriteFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger("advspark.failure");

    private final transient StoreWriteException write;
    private final String roundId;

    private WriteFailure(StoreWriteException write, String roundId, Exception failure) {
        super(write.getMessage(), failure);
        this.write = write;
        this.roundId = roundId;
    }

    /** The write failure behind {@code e}, if that is what stopped round {@code roundId}. */
    static Optional<WriteFailure> of(Exception e, String roundId) {
        return StoreWriteException.find(e).map(w -> new WriteFailure(w, roundId, e));
    }

    /** Logs the stack trace to the log file and returns the line for the terminal. */
    String report() {
        LOG.error("round {}: {}", roundId, write.getMessage(), getCause());
        String log = LogFiles.current();
        return line() + (log == null ? "" : " Details: " + log);
    }

    String line() {
        String what = write.full() ? "Free space"
                : write.refused() ? "Make it writable"
                : "Check the store";
        return "advspark: cannot write " + write.uri() + " (round " + roundId + "): " + write.reason() + ". " + what
                + " or set advspark.round.output elsewhere, then rerun: the round resumes from what is committed.";
    }
}
