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
}
