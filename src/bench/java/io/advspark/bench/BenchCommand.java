package io.advspark.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * The shared base of every harness in {@code src/bench/java}: a picocli command with named options
 * and {@code --help}, run by {@link #main(BenchCommand, String[])} from the harness's own
 * {@code main}. The common options are mixins ({@link BenchOptions}); defaults are shown in
 * {@code --help}; default paths into the shared data and models follow {@link #shared()}. A harness implements {@link #run()}; an exception from it is printed with its
 * stack trace and the process exits with 1, as an uncaught exception did before; a bad option
 * exits with 2 and the usage.
 */
public abstract class BenchCommand implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print these options with their defaults and exit")
    boolean help;

    /** Parses {@code args} into {@code command}, runs it and exits the JVM with its code. */
    public static void main(BenchCommand command, String[] args) {
        CommandLine cl = new CommandLine(command);
        cl.getCommandSpec().usageMessage().showDefaultValues(true).width(110);
        System.exit(cl.execute(args));
    }

    /** What the harness does once its options are parsed. */
    protected abstract void run() throws Exception;

    @Override
    public final Integer call() throws Exception {
        run();
        return 0;
    }

    /**
     * The workplace's shared data and models: {@code $ADVSPARK_SHARED}, else {@code ../shared} from
     * the working directory (the repository root for the jobs/ scripts), as the scripts and
     * {@code io.advspark.testing.Shared} find them. Only a default: nothing is checked here.
     */
    public static Path shared() {
        String env = System.getenv("ADVSPARK_SHARED");
        return (env != null && !env.isEmpty() ? Path.of(env) : Path.of("..", "shared")).toAbsolutePath().normalize();
    }

    /** A model of the shared folder: {@code models/KIND/NAME.pt}. */
    public static Path sharedModel(String kind, String name) {
        return shared().resolve("models").resolve(kind).resolve(name + ".pt");
    }

    /** Appends a harness's markdown table to its table file, creating the file and its folder if needed. */
    public static void appendTable(Path out, String table) throws IOException {
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, table, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
