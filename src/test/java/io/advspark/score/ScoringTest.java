package io.advspark.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.data.RgbImage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Presets against hand-computed cases; Wilson intervals against values computed by hand (formula in a calculator). */
class ScoringTest {
    // true label 3, target class 7
    private static Outcome still(int d) { return new Outcome(3, 7, 3, d); }
    private static Outcome wrong(int d) { return new Outcome(3, 7, 5, d); }
    private static Outcome hit(int d) { return new Outcome(3, 7, 7, d); }

    @Test
    void tianchi2019() {
        Scoring s = Scoring.parse("tianchi2019");
        assertEquals("tianchi2019(eps=32)", s.spec());
        assertEquals(0, s.perTarget(still(16)));
        assertEquals(3.0, s.perTarget(wrong(16)), 1e-12);   // 2 * (2 - 16/32)
        assertEquals(7.5, s.perTarget(hit(16)), 1e-12);     // 5 * (2 - 16/32)
        assertEquals(3.5, s.perTarget(wrong(8)), 1e-12);    // 2 * (2 - 8/32)
        assertEquals(5.0, s.perTarget(hit(32)), 1e-12);     // 5 * (2 - 1)
        assertEquals(10.0, s.perTarget(hit(0)), 1e-12);     // the maximum
        assertEquals(0, s.perTarget(hit(33)));              // over the budget
        // an image against three defended targets: the mean
        assertEquals((0 + 3.0 + 7.5) / 3, s.perImage(List.of(s.perTarget(still(16)), s.perTarget(wrong(16)),
                s.perTarget(hit(16)))), 1e-12);
        assertEquals(3.5, Scoring.parse("tianchi2019(eps=16)").perTarget(wrong(4)), 1e-12); // 2 * (2 - 4/16)
    }

    @Test
    void nips2017CountsFooledDefenses() {
        Scoring u = Scoring.parse("nips2017");
        Scoring t = Scoring.parse("nips2017(targeted=true)");
        List<Outcome> o = List.of(still(4), wrong(4), hit(4));
        assertEquals(2.0, u.perImage(o.stream().map(u::perTarget).toList()));  // two misclassifications
        assertEquals(1.0, t.perImage(o.stream().map(t::perTarget).toList()));  // one target hit
    }

    @Test
    void asrIsTheMeanSuccess() {
        Scoring u = Scoring.parse("asr");
        Scoring t = Scoring.parse("asr(targeted=true)");
        List<Outcome> o = List.of(still(4), wrong(4), hit(4), hit(4));
        assertEquals(0.75, u.perImage(o.stream().map(u::perTarget).toList()), 1e-12);
        assertEquals(0.5, t.perImage(o.stream().map(t::perTarget).toList()), 1e-12);
    }

    @Test
    void badSpecsNameThemselves() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Scoring.parse("tianchi(eps=32)"));
        assertTrue(e.getMessage().contains("tianchi"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Scoring.parse("asr(target=true)"));
        assertTrue(e.getMessage().contains("target"), e.getMessage());
    }

    @Test
    void wilson() {
        assertInterval(0, 0.27753279986288, Wilson.interval(0, 10));
        assertInterval(0.23659309051257, 0.76340690948743, Wilson.interval(5, 10));
        assertInterval(0.72246720013712, 1, Wilson.interval(10, 10));
        assertInterval(0.25528851987827, 0.36620957698280, Wilson.interval(81, 263));
        assertInterval(0, 1, Wilson.interval(0, 0));
        assertThrows(IllegalArgumentException.class, () -> Wilson.interval(11, 10));
    }

    @Test
    void psnr() {
        RgbImage a = new RgbImage(1, 2, new byte[] {0, 0, 0, 0, 0, 0});
        RgbImage b = new RgbImage(1, 2, new byte[] {16, 0, 0, 0, 0, 0});
        // MSE = 256 / 6; 10 log10(65025 * 6 / 256)
        assertEquals(10 * Math.log10(65025.0 * 6 / 256), Perturbation.psnr(a, b), 1e-12);
        assertEquals(Double.POSITIVE_INFINITY, Perturbation.psnr(a, a));
    }

    private static void assertInterval(double lo, double hi, Wilson w) {
        assertEquals(lo, w.low(), 1e-9);
        assertEquals(hi, w.high(), 1e-9);
    }
}
