package io.advspark.cli;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.FileAppender;

/** Where this JVM's log file is (appender {@code file} of log4j2.properties). */
final class LogFiles {
    private LogFiles() {}

    /** The log file's path, or null when logging is configured otherwise (e.g. a cluster's own log4j2). */
    static String current() {
        try {
            if (LogManager.getContext(false) instanceof LoggerContext ctx) {
                Appender a = ctx.getConfiguration().getAppender("file");
                if (a instanceof FileAppender f) {
                    return java.nio.file.Path.of(f.getFileName()).toAbsolutePath().normalize().toString();
                }
            }
        } catch (RuntimeException | LinkageError e) {
            // no log4j-core: nothing to point at
        }
        return null;
    }
}
