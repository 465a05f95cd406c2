package io.advspark.defense;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.data.RgbImage;
import io.advspark.plan.ConfigLoader;
import io.advspark.plan.ModelSpec;
import io.advspark.plan.RoundConfig;
import io.advspark.vocabulary.ConfigException;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A defense added as one class (the test-only {@link ExampleInvertDefense}) reaches the plan and runs. */
class ExampleDefenseTest {

    @Test
    void aDefenseDeclaredInItsOwnClassIsParsedIntoThePlanAndApplied() {
        RoundConfig plan = ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of(
                "models=[{path=\"demo/models/tiny_a.pt\", role=surrogate},"
                        + " {path=\"demo/models/tiny_b.pt\", role=target, defenses=[\"model\", \"example-invert(200) > model\"]}]"));
        ModelSpec target = plan.targets().get(0);
        assertEquals(List.of("model", "example-invert(above=200) > model"),
                target.defenses().stream().map(DefenseChain::spec).toList());
        DefenseChain chain = target.defenses().get(1);
        assertFalse(chain.randomised());
        RgbImage img = new RgbImage(1, 1, new byte[] {(byte) 10, (byte) 201, (byte) 255});
        assertEquals(List.of(10, 54, 0), toInts(chain.apply(img, new Random(0)).pixels()));

        ConfigException bad = assertThrows(ConfigException.class, () -> ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of(
                "models=[{path=\"demo/models/tiny_a.pt\", role=surrogate},"
                        + " {path=\"demo/models/tiny_b.pt\", role=target, defenses=[\"example-invert(above=300)\"]}]")));
        assertTrue(bad.getMessage().contains("example-invert(above=300)") && bad.getMessage().contains("above"),
                bad.getMessage());
    }

    private static List<Integer> toInts(byte[] b) {
        return java.util.stream.IntStream.range(0, b.length).mapToObj(i -> b[i] & 0xff).toList();
    }
}
