package io.advspark.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.data.RgbImage;
import io.advspark.score.Leaderboard;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The page's rendering on made-up data (no round): what is omitted, escaped and bounded. */
class HtmlReportRenderTest {
    private static Leaderboard.Entry entry(String attack, String variant, double rate) {
        Leaderboard.Rate r = new Leaderboard.Rate(rate, Math.max(0, rate - 0.1), Math.min(1, rate + 0.1));
        return new Leaderboard.Entry(attack, variant, 10, 8, 0.8, r, r, r, r, 1.5);
    }

    private static ReportData data(List<Leaderboard.Entry> entries, List<ReportData.AttackInfo> attacks,
            ReportData.Samples samples) {
        return new ReportData(new ReportData.Header("r1", "file:/tmp/out/r1", "tianchi2019(eps=32)", 10, "2026-01-01T00:00:00Z",
                "test"), entries, Leaderboard.Metric.UNTARGETED_ON_CORRECT, new Leaderboard.Style(false, true, Map.of()),
                attacks, List.of(new ReportData.Norm("a", 8, 300.0), new ReportData.Norm("a", 7, 250.0)), samples);
    }

    @Test
    void withoutASweepTheFigureIsANoteAndNamesAreEscaped() {
        String evil = "<b>x</b>";
        String html = HtmlReport.render(data(List.of(entry("a", "tiny_c", 0.5), entry(evil, "tiny_c", 0.25)),
                List.of(new ReportData.AttackInfo("a", 8, "f1"), new ReportData.AttackInfo(evil, 8, "f2")),
                ReportData.Samples.none("No written PNGs in the records.")));
        assertTrue(html.contains("No eps sweep in this round"), "the sweep's note");
        assertFalse(html.contains("<svg id=\"sweep\""), "no sweep figure");
        assertFalse(html.contains(evil), "an attack name is escaped");
        assertTrue(html.contains("&lt;b&gt;x&lt;/b&gt;"));
        assertTrue(html.contains("50.0%") && html.contains("25.0%"), "heatmap cells in %");
        assertTrue(html.contains("No written PNGs in the records."), "the grid's note");
        assertFalse(html.toLowerCase(java.util.Locale.ROOT).contains("http"), "nothing fetched");
    }

    @Test
    void configsDifferingOnlyInEpsAreASweep() {
        List<ReportData.AttackInfo> attacks = List.of(new ReportData.AttackInfo("mi-eps4", 4, "f"),
                new ReportData.AttackInfo("mi-eps8", 8, "f"), new ReportData.AttackInfo("other", 8, "g"));
        ReportData d = data(List.of(entry("mi-eps4", "t", 0.2), entry("mi-eps8", "t", 0.4), entry("other", "t", 0.3)), attacks,
                ReportData.Samples.none(""));
        Map<String, List<ReportData.AttackInfo>> sweeps = HtmlReport.sweeps(d);
        assertEquals(List.of("mi"), List.copyOf(sweeps.keySet()), "one family, named without its -eps part");
        assertEquals(List.of(4.0, 8.0), sweeps.get("mi").stream().map(ReportData.AttackInfo::eps).toList());
        assertTrue(HtmlReport.render(d).contains("<svg id=\"sweep\""));
    }

    @Test
    void picturesAreDownscaledAndThePerturbationCentredOnGrey() {
        byte[] px = new byte[3 * 200 * 320];
        java.util.Arrays.fill(px, (byte) 100);
        RgbImage big = new RgbImage(200, 320, px);
        RgbImage small = Thumbnails.downscale(big, Thumbnails.MAX_SIDE);
        assertEquals(100, small.height());
        assertEquals(160, small.width());
        assertEquals(100, small.pixels()[0] & 0xff, "a box mean of equal pixels");
        byte[] adv = px.clone();
        adv[0] = (byte) 104;
        adv[1] = (byte) 0;
        RgbImage p = Thumbnails.perturbation(big, new RgbImage(200, 320, adv), 10);
        assertEquals(168, p.pixels()[0] & 0xff, "127.5 + 10 x 4, rounded");
        assertEquals(0, p.pixels()[1] & 0xff, "clamped");
        assertEquals(128, p.pixels()[2] & 0xff, "unchanged: grey");
        assertTrue(Thumbnails.img(big, "x").contains("width=\"96\" height=\"60\""), "shown at 96 px on its longest side");
    }
}
