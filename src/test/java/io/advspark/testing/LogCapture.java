package io.advspark.testing;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

/**
 * Captures, for its lifetime, every log4j2 event that reaches the root logger (Spark, Hadoop,
 * the AWS SDK and advspark all log through slf4j into log4j2) with its stack trace, plus
 * everything written to {@code System.out} and {@code System.err} (still passed through).
 *
 * <p>The root level is lowered to {@code rootLevel} meanwhile (e.g. INFO, so that Spark's and
 * Hadoop's INFO messages are inspected too) and restored on {@link #close()}.
 */
public final class LogCapture implements AutoCloseable {
    private final StringBuilder events = new StringBuilder();
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final LoggerContext context;
    private final AbstractAppender appender;
    private final Level previousRootLevel;
    private final PrintStream previousOut;
    private final PrintStream previousErr;
    private int eventCount;

    private LogCapture(Level rootLevel) {
        context = (LoggerContext) LogManager.getContext(false);
        Configuration config = context.getConfiguration();
        appender = new AbstractAppender("advspark-test-capture", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent e) {
                StringBuilder b = new StringBuilder();
                b.append(e.getLevel()).append(' ').append(e.getLoggerName()).append(": ")
                        .append(e.getMessage() == null ? "" : e.getMessage().getFormattedMessage()).append('\n');
                if (e.getThrown() != null) {
                    StringWriter w = new StringWriter();
                    e.getThrown().printStackTrace(new PrintWriter(w));
                    b.append(w).append('\n');
                }
                synchronized (events) {
                    events.append(b);
                    eventCount++;
                }
            }
        };
        appender.start();
        LoggerConfig root = config.getRootLogger();
        previousRootLevel = root.getLevel();
        root.addAppender(appender, Level.ALL, null);
        root.setLevel(rootLevel);
        context.updateLoggers();

        previousOut = System.out;
        previousErr = System.err;
        System.setOut(new PrintStream(new Tee(previousOut, console), true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(new Tee(previousErr, console), true, StandardCharsets.UTF_8));
    }

    /** Starts capturing with the root logger lowered to {@code rootLevel}. */
    public static LogCapture start(Level rootLevel) {
        return new LogCapture(rootLevel);
    }

    /** Log events so far (message and stack trace of each). */
    public String events() {
        synchronized (events) {
            return events.toString();
        }
    }

    public int eventCount() {
        synchronized (events) {
            return eventCount;
        }
    }

    /** What was printed to stdout and stderr so far. */
    public String console() {
        synchronized (console) {
            return console.toString(StandardCharsets.UTF_8);
        }
    }

    /** Events and console output together. */
    public String all() {
        return events() + "\n" + console();
    }

    @Override
    public void close() {
        System.out.flush();
        System.err.flush();
        System.setOut(previousOut);
        System.setErr(previousErr);
        LoggerConfig root = context.getConfiguration().getRootLogger();
        root.removeAppender(appender.getName());
        root.setLevel(previousRootLevel);
        context.updateLoggers();
        appender.stop();
    }

    private final class Tee extends OutputStream {
        private final OutputStream a;
        private final ByteArrayOutputStream b;

        Tee(OutputStream a, ByteArrayOutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int x) {
            synchronized (b) {
                b.write(x);
            }
            try {
                a.write(x);
            } catch (java.io.IOException ignored) {
                // the copy is what matters
            }
        }

        @Override
        public void write(byte[] buf, int off, int len) {
            synchronized (b) {
                b.write(buf, off, len);
            }
            try {
                a.write(buf, off, len);
            } catch (java.io.IOException ignored) {
                // the copy is what matters
            }
        }

        @Override
        public void flush() {
            try {
                a.flush();
            } catch (java.io.IOException ignored) {
                // nothing to do
            }
        }
    }
}
