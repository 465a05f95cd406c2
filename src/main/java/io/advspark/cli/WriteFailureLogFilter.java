package io.advspark.cli;

import io.advspark.data.StoreWriteException;
import org.apache.logging.log4j.core.Filter;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.config.Node;
import org.apache.logging.log4j.core.config.plugins.Plugin;
import org.apache.logging.log4j.core.config.plugins.PluginAttribute;
import org.apache.logging.log4j.core.config.plugins.PluginFactory;
import org.apache.logging.log4j.core.filter.AbstractFilter;

/**
 * Keeps the stack traces of a write failure off the terminal: Spark logs each failed task attempt
 * with its whole trace (Executor "Exception in task", TaskSetManager "Lost task", up to four times
 * on a cluster), then "aborting job"; advspark reports the failure in one line instead (see
 * {@code cli.WriteFailure}). Denies those events on the appender it is attached to (the console);
 * the log file still gets them. Under {@code --quiet} it also denies the INFO and DEBUG events
 * (one filter: log4j's properties format takes one per appender here). Every other event passes.
 */
@Plugin(name = "WriteFailureFilter", category = Node.CATEGORY, elementType = Filter.ELEMENT_TYPE)
public final class WriteFailureLogFilter extends AbstractFilter {
    /** Set once a write failure was seen: Spark's "aborting job" line that follows is about it. */
    private static volatile boolean seen;

    private WriteFailureLogFilter(Result onMatch, Result onMismatch) {
        super(onMatch, onMismatch);
    }

    /** {@code onMatch}/{@code onMismatch} are accepted (the properties format passes them) but unused. */
    @PluginFactory
    public static WriteFailureLogFilter create(@PluginAttribute("onMatch") Result onMatch,
            @PluginAttribute("onMismatch") Result onMismatch) {
        return new WriteFailureLogFilter(Result.DENY, Result.NEUTRAL);
    }

    @Override
    public Result filter(LogEvent event) {
        // --quiet (Main.logLevels): warnings and errors only on the terminal. Read per event, as
        // the property is set before logging starts but this filter may be built earlier in tests.
        if ("warn".equals(System.getProperty("advspark.console.level"))
                && event.getLevel().isLessSpecificThan(org.apache.logging.log4j.Level.INFO)) {
            return Result.DENY;
        }
        String message = event.getMessage() == null ? null : event.getMessage().getFormattedMessage();
        boolean write = StoreWriteException.mentionedIn(message)
                || (event.getThrown() != null && StoreWriteException.isWriteFailure(event.getThrown()));
        if (write) {
            seen = true;
            return Result.DENY;
        }
        if (seen && message != null && event.getLoggerName().startsWith("org.apache.spark.")
                && message.contains("; aborting job")) {
            return Result.DENY;
        }
        return Result.NEUTRAL;
    }
}
