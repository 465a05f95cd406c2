package io.advspark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.plan.ConfigLoader;
import io.advspark.plan.RoundConfig;
import io.advspark.testing.Rounds;
import io.advspark.vocabulary.ConfigException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command line's conventions: full help, a help command, spark-submit's options, errors that name their source. */
class CommandLineTest {

    private static String help(String... args) {
        StringWriter out = new StringWriter();
        PrintStream err = System.err;
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
        try {
            CommandLine cl = new CommandLine(new Main());
            cl.setOut(new PrintWriter(out));
            assertEquals(0, cl.execute(args));
        } finally {
            System.setErr(err);
        }
        assertEquals("", warnings.toString(StandardCharsets.UTF_8), "picocli printed warnings for " + List.of(args));
        return out.toString();
    }

    @Test
    void helpListsEveryCommandWholeAndHelpIsACommand() {
        String top = help("--help");
        for (String c : List.of("attack", "evaluate", "report", "devices", "help")) {
            assertTrue(top.contains("  " + c + " "), c + " in\n" + top);
        }
        assertTrue(top.contains("print the leaderboard."), "one-line headers, not a cut description:\n" + top);
        for (String c : List.of("attack", "evaluate", "report", "devices")) {
            String viaHelp = help("help", c);
            assertEquals(help(c, "--help"), viaHelp);
            assertTrue(viaHelp.contains("--quiet") && viaHelp.contains("--verbose"), viaHelp);
        }
        assertTrue(help("attack", "--help").contains("--executor-memory=MEM"));
    }

    @Test
    void sparkSubmitOptionsBecomeSparkProperties() {
        Main.RoundOptions o = new Main.RoundOptions();
        new CommandLine(o).parseArgs("-c", Rounds.TINY.getPath(), "--conf", "spark.speculation=true", "--conf",
                "spark.eventLog.dir=file:/tmp/ev", "--executor-memory", "8g", "--num-executors", "3", "--executor-cores", "2",
                "--set", "spark.conf.\"spark.executor.memory\"=12g");
        RoundConfig c = ConfigLoader.load(o.config, o.allOverrides());
        assertEquals(Map.of("spark.speculation", "true", "spark.eventLog.dir", "file:/tmp/ev", "spark.executor.memory", "12g",
                "spark.executor.instances", "3", "spark.executor.cores", "2"), c.sparkConf(), "a --set of the same key wins");

        Main.RoundOptions creds = new Main.RoundOptions();
        new CommandLine(creds).parseArgs("-c", Rounds.TINY.getPath(), "--conf", "spark.hadoop.fs.s3a.secret.key=hunter2");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(creds.config, creds.allOverrides()));
        assertTrue(e.getMessage().contains("looks like a credential") && !e.getMessage().contains("hunter2"), e.getMessage());

        Main.RoundOptions heap = new Main.RoundOptions();
        new CommandLine(heap).parseArgs("--driver-memory", "4g");
        assertTrue(assertThrows(ConfigException.class, heap::allOverrides).getMessage().contains("give it to jobs/advspark"));
    }

    @Test
    void aBadValueNamesWhereItCameFrom() {
        ConfigException set = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(Rounds.TINY, List.of("attack.eps=abc")));
        assertTrue(set.getMessage().startsWith("bad value in --set attack.eps=abc: ") && !set.getMessage().contains(": 1:"),
                set.getMessage());
        ConfigException key = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(Rounds.TINY, List.of("attack.epss=4")));
        assertTrue(key.getMessage().contains("at --set attack.epss=4;"), key.getMessage());
    }

    @Test
    void theConsoleKeepsItsWriteFailureFilterWhichAlsoAppliesQuiet() {
        // log4j2.properties takes one filter per appender here: a second one once dropped this one
        // (stack traces of write failures reached the terminal again; WriteFailuresIT saw it).
        org.apache.logging.log4j.core.LoggerContext ctx =
                (org.apache.logging.log4j.core.LoggerContext) org.apache.logging.log4j.LogManager.getContext(false);
        org.apache.logging.log4j.core.Appender console = ctx.getConfiguration().getAppender("console");
        org.apache.logging.log4j.core.Filter f = ((org.apache.logging.log4j.core.filter.AbstractFilterable) console).getFilter();
        assertTrue(f instanceof WriteFailureLogFilter, "console filter: " + f);
        org.apache.logging.log4j.core.LogEvent info = org.apache.logging.log4j.core.impl.Log4jLogEvent.newBuilder()
                .setLoggerName("io.advspark.x").setLevel(org.apache.logging.log4j.Level.INFO)
                .setMessage(new org.apache.logging.log4j.message.SimpleMessage("progress")).build();
        assertEquals(org.apache.logging.log4j.core.Filter.Result.NEUTRAL, f.filter(info));
        System.setProperty("advspark.console.level", "warn");
        try {
            assertEquals(org.apache.logging.log4j.core.Filter.Result.DENY, f.filter(info), "--quiet");
        } finally {
            System.clearProperty("advspark.console.level");
        }
    }
}
