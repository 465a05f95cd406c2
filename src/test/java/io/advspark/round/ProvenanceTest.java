package io.advspark.round;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What a resume reports as changed, from the columns committed rows carry (no Spark needed). */
class ProvenanceTest {
    private static final String A = "a".repeat(64), B = "b".repeat(64), C = "c".repeat(64), M = "d".repeat(64);

    private static Provenance two(double weightOfSecond) {
        return new Provenance(List.of(new Provenance.Surrogate("file:/m/x.pt", A, "file:/m/x.json", B, 1.0, true),
                new Provenance.Surrogate("file:/m/y.pt", C, "file:/m/y.json", B, weightOfSecond, true)),
                "file:/d/dev.csv", M);
    }

    @Test
    void sameInputsAreNoChange() {
        Provenance p = two(1.0);
        assertNull(p.changeFrom(p.modelSha256(), p.cardSha256(), p.surrogateSettings(), p.manifestSha256()));
        assertEquals(A + "; " + C, p.modelSha256());
        assertEquals("weight=1.0 augment=true; weight=1.0 augment=true", p.surrogateSettings());
    }

    @Test
    void eachChangeIsNamed() {
        Provenance before = two(1.0);
        String weight = two(2.0).changeFrom(before.modelSha256(), before.cardSha256(), before.surrogateSettings(),
                before.manifestSha256());
        assertEquals("surrogate 2 (file:/m/y.pt) is now set to weight=2.0 augment=true, the committed images were made"
                + " with weight=1.0 augment=true", weight);
        Provenance one = new Provenance(List.of(before.surrogates().get(0)), "file:/d/dev.csv", M);
        String fewer = one.changeFrom(before.modelSha256(), before.cardSha256(), before.surrogateSettings(), A);
        assertTrue(fewer.startsWith("the committed images were made with 2 surrogate(s), the configuration now gives 1"
                + " [file:/m/x.pt]") && fewer.contains("manifest file:/d/dev.csv has other content (sha256 dddddddddddd...,"
                + " the committed images were made with aaaaaaaaaaaa...)"), fewer);
    }
}
