package io.advspark.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The terminal leaderboard: ranking by the mean over the defended targets, hand-computed cells. */
class LeaderboardTest {
    private static final List<Leaderboard.Entry> ENTRIES = List.of(
            new Leaderboard.Entry("mi", "t", 10, 0.9, 0.5, 0.1, 1.5),
            new Leaderboard.Entry("mi", "jpeg(quality=75) > t", 10, 0.8, 0.3, 0.0, 0.9),
            new Leaderboard.Entry("mi-di", "t", 10, 0.9, 0.7, 0.0, 2.1),
            new Leaderboard.Entry("mi-di", "jpeg(quality=75) > t", 10, 0.8, 0.2, 0.2, 1.2));

    private static List<String> lines(String board) {
        return board.lines().filter(l -> l.trim().matches("\\d+ .*")).toList();
    }

    @Test
    void ranksByTheMeanScoreOverTheColumns() {
        String b = Leaderboard.render("title", ENTRIES, Leaderboard.Metric.SCORE);
        List<String> rows = lines(b);
        // mi-di: (2.1 + 1.2) / 2 = 1.65; mi: (1.5 + 0.9) / 2 = 1.2
        assertEquals(List.of("1", "mi-di", "1.650", "2.100", "1.200"), List.of(rows.get(0).trim().split("\\s+")));
        assertEquals(List.of("2", "mi", "1.200", "1.500", "0.900"), List.of(rows.get(1).trim().split("\\s+")));
        assertTrue(b.contains("90.0") && b.contains("80.0"), "clean accuracy per column:\n" + b);
    }

    @Test
    void otherMetricsRankDifferently() {
        // untargeted: mi 40.0, mi-di 45.0; targeted: mi 5.0, mi-di 10.0
        List<String> u = lines(Leaderboard.render("t", ENTRIES, Leaderboard.Metric.UNTARGETED));
        assertEquals(List.of("1", "mi-di", "45.0", "70.0", "20.0"), List.of(u.get(0).trim().split("\\s+")));
        List<String> t = lines(Leaderboard.render("t", ENTRIES, Leaderboard.Metric.TARGETED));
        assertEquals(List.of("2", "mi", "5.0", "10.0", "0.0"), List.of(t.get(1).trim().split("\\s+")));
    }

    @Test
    void aMissingCellShowsADash() {
        List<Leaderboard.Entry> e = List.of(ENTRIES.get(0), ENTRIES.get(1), ENTRIES.get(2));
        List<String> rows = lines(Leaderboard.render("t", e, Leaderboard.Metric.SCORE));
        assertEquals(List.of("1", "mi-di", "2.100", "2.100", "-"), List.of(rows.get(0).trim().split("\\s+")));
    }

    @Test
    void onCorrectRatesShowTheirIntervalsAndTheCostInMarkdown() {
        Leaderboard.Rate none = Leaderboard.Rate.of(Double.NaN);
        List<Leaderboard.Entry> e = List.of(
                new Leaderboard.Entry("mi", "t", 10, 8, 0.8, none, none, new Leaderboard.Rate(0.25, 0.071, 0.591), none, 0.5),
                new Leaderboard.Entry("bsr", "t", 10, 8, 0.8, none, none, new Leaderboard.Rate(0.75, 0.409, 0.929), none, 1.5));
        String md = Leaderboard.render("## r", e, Leaderboard.Metric.parse("untargeted-on-correct"),
                new Leaderboard.Style(true, true, java.util.Map.of("mi", 120.4, "bsr", 2410.0)));
        List<String> rows = md.lines().filter(l -> l.startsWith("|")).toList();
        assertEquals("| # | attack | mean | t | ms/image |", rows.get(0));
        assertEquals("|---|---|---:|---:|---:|", rows.get(1));
        assertEquals("|  | (clean-correct images) |  | 8 |  |", rows.get(2));
        assertEquals("| 1 | bsr | 75.0 | 75.0 [40.9, 92.9] | 2410 |", rows.get(3));
        assertEquals("| 2 | mi | 25.0 | 25.0 [7.1, 59.1] | 120 |", rows.get(4));
        assertTrue(md.contains("[Wilson 95% interval]"), md);
        // A defended target that classifies no clean image correctly has no on-correct rate.
        List<Leaderboard.Entry> none0 = List.of(new Leaderboard.Entry("mi", "rs > t", 10, 0, 0.0, none, none,
                new Leaderboard.Rate(0.0, 0.0, 1.0), none, 0.0));
        String t = Leaderboard.render("r", none0, Leaderboard.Metric.UNTARGETED_ON_CORRECT, new Leaderboard.Style(true, true, java.util.Map.of()));
        assertTrue(t.contains("| 1 | mi | - | - |"), t);
    }

    @Test
    void anUnknownMetricNamesTheKnownOnes() {
        IllegalArgumentException x = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Leaderboard.Metric.parse("success"));
        assertTrue(x.getMessage().contains("untargeted-on-correct"), x.getMessage());
        assertEquals(Leaderboard.Metric.TARGETED_ON_CORRECT, Leaderboard.Metric.parse("Targeted_On_Correct"));
    }

    @Test
    void csvAndJsonListEveryCellInRankOrder() {
        String csv = Leaderboard.renderLong("t", ENTRIES, Leaderboard.Metric.SCORE, java.util.Map.of("mi", 12.5), false);
        List<String> lines = csv.lines().toList();
        assertEquals("rank,attack,target,image_count,clean_correct_count,clean_correct_pct,metric,value,low,high,attack_mean,ms_per_image",
                lines.get(0));
        assertEquals(5, lines.size());
        assertEquals("1,mi-di,t,10,9,90.0000,score,2.1000,,,1.6500,", lines.get(1));
        assertEquals("2,mi,jpeg(quality=75) > t,10,8,80.0000,score,0.9000,,,1.2000,12.5000", lines.get(4));
        String json = Leaderboard.renderLong("round \"r\"", ENTRIES, Leaderboard.Metric.SCORE, java.util.Map.of(), true);
        assertTrue(json.startsWith("{\"title\": \"round \\\"r\\\"\", \"metric\": \"score\", \"rows\": ["), json);
        assertTrue(json.contains("{\"rank\": 1, \"attack\": \"mi-di\", \"target\": \"t\", \"image_count\": 10, \"clean_correct_count\": 9,"
                + " \"clean_correct_pct\": 90.0000, \"metric\": \"score\", \"value\": 2.1000, \"low\": null, \"high\": null,"
                + " \"attack_mean\": 1.6500, \"ms_per_image\": null}"), json);
    }
}
