package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.cli.Main;
import io.advspark.plan.RoundConfig;
import io.advspark.testing.Rounds;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A rerun of a finished, evaluated round is told before Spark starts ({@link FinishedRound}), and
 * anything that would change the outputs (a missing PNG, another attack spec, another defense, a
 * stopped evaluation) sends the rerun down the usual path.
 */
class FinishedRoundTest {
    private static final String MODELS = "models=[{path=demo/models/tiny_a.pt},{path=demo/models/tiny_b.pt},"
            + "{path=demo/models/tiny_c.pt, role=target, defenses=%s}]";

    private static String[] sets(Path out, String defenses, String... more) {
        return Rounds.with(new String[] {"round.output=\"" + out + "\"", "round.id=done", "dataset.limit=16",
            String.format(MODELS, defenses)}, more);
    }

    private static Optional<FinishedRound.State> state(RoundConfig cfg) {
        return FinishedRound.of(cfg, new Configuration(), System.currentTimeMillis());
    }

    @Test
    void aFinishedRoundIsToldWithoutSparkAndAnyChangeRunsIt(@TempDir Path out) throws Exception {
        RoundConfig cfg = Rounds.config(Rounds.TINY.getPath(), sets(out, "[\"model\", \"jpeg(75)\"]"));
        assertFalse(state(cfg).isPresent(), "nothing attacked yet");
        Rounds.run(cfg, "local[2]");
        FinishedRound.State attacked = state(cfg).orElseThrow();
        assertFalse(attacked.evaluated(), "attacked, not evaluated");
        assertEquals(16, attacked.summary().attacks().get(0).images());

        Rounds.evaluate(cfg, "local[2]");
        Path stamp = out.resolve("done/summary/" + EvaluationStamp.NAME);
        assertTrue(Files.exists(stamp), "the evaluation leaves its stamp beside the summary");
        assertTrue(state(cfg).orElseThrow().evaluated());

        // Another defense list, score or attack spec: not the round that was evaluated or attacked.
        assertFalse(state(Rounds.config(Rounds.TINY.getPath(), sets(out, "[\"model\", \"jpeg(50)\"]"))).orElseThrow()
                .evaluated(), "a changed defense needs a new evaluation");
        assertFalse(state(Rounds.config(Rounds.TINY.getPath(), sets(out, "[\"model\", \"jpeg(75)\"]",
                "evaluate.score=\"asr\""))).orElseThrow().evaluated(), "another score needs a new evaluation");
        assertFalse(state(Rounds.config(Rounds.TINY.getPath(), sets(out, "[\"model\", \"jpeg(75)\"]",
                "attack.eps=4"))).isPresent(), "another attack spec is not this round's work");

        // The CLI says so and prints the leaderboard, without a Spark session.
        String said = cli("attack", Rounds.TINY.getPath(), sets(out, "[\"model\", \"jpeg(75)\"]"));
        assertTrue(said.contains("round done is complete and its evaluation is up to date: nothing to do"), said);
        assertTrue(said.contains("advspark leaderboard: round done"), said);
        assertTrue(said.contains("16 attacked"), said);
        String eval = cli("evaluate", Rounds.TINY.getPath(), sets(out, "[\"model\", \"jpeg(75)\"]"));
        assertTrue(eval.contains("is up to date"), eval);

        // A PNG gone: the round has work again. The resume rewrites the batch's record file (same
        // name, other timings, so possibly another length): the evaluation may no longer count as
        // current, and is then run again (never the other way round).
        Path png;
        try (var s = Files.list(out.resolve("done/images/main"))) {
            png = s.sorted().findFirst().orElseThrow();
        }
        Files.delete(png);
        assertFalse(state(cfg).isPresent(), "a missing PNG is work left");
        Rounds.run(cfg, "local[2]");
        assertTrue(state(cfg).isPresent(), "complete again");
        Rounds.evaluate(cfg, "local[2]");
        assertTrue(state(cfg).orElseThrow().evaluated());

        // An evaluation that stopped before its summary leaves no stamp: the next run evaluates.
        Files.delete(stamp);
        assertFalse(state(cfg).orElseThrow().evaluated());
    }

    /** Runs the CLI in this JVM; its standard output. */
    private static String cli(String command, String config, String[] sets) {
        String[] args = new String[3 + 2 * sets.length];
        args[0] = command;
        args[1] = "-c";
        args[2] = config;
        for (int i = 0; i < sets.length; i++) {
            args[3 + 2 * i] = "--set";
            args[4 + 2 * i] = sets[i];
        }
        PrintStream stdout = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, new CommandLine(new Main()).execute(args));
        } finally {
            System.setOut(stdout);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
