package io.advspark.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.vocabulary.Catalogue;
import io.advspark.vocabulary.ConfigException;
import io.advspark.vocabulary.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code attack.augment} and the per-model {@code augment} switch at configuration load (no model
 * is read here; a surrogate that cannot take the augmentation is refused by the model check, see
 * DropoutRoundTest).
 */
class AugmentConfigTest {

    private static ConfigException fails(String... overrides) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of(overrides)));
    }

    @Test
    void augmentSpecsAreParsedAndRecordedInTheAttackSpec() {
        RoundConfig c = ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of("attack.augment=[\"dropout(p=0.1)\"]"));
        assertEquals(List.of(Catalogue.parse(Kind.AUGMENT, "dropout(p=0.1)")), c.attack().augment());
        assertTrue(c.attack().toAttack().spec().endsWith(" augment=[dropout(p=0.1)]"));
        RoundConfig d = ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of("attack.augment=[dropout]"));
        assertTrue(d.attack().toAttack().spec().endsWith(" augment=[dropout(p=0.006)]"), "Ghost Networks' default");
        RoundConfig none = ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of());
        assertEquals(List.of(), none.attack().augment());
        assertFalse(none.attack().toAttack().spec().contains("augment"), "rounds without it keep their spec and seeds");
    }

    @Test
    void badAugmentSpecsFailAtLoadNamingTheSpec() {
        String e1 = fails("attack.augment=[\"dropout(p=1.5)\"]").getMessage();
        assertTrue(e1.contains("advspark.attack") && e1.contains("'dropout(p=1.5)'") && e1.contains("'p' must be in"), e1);
        String e2 = fails("attack.augment=[\"droput(p=0.1)\"]").getMessage();
        assertTrue(e2.contains("unknown part 'droput'") && e2.contains("dropout"), e2);
        String e3 = fails("attack.augment=[\"dropout(rate=0.1)\"]").getMessage();
        assertTrue(e3.contains("unknown parameter 'rate'") && e3.contains("dropout(rate=0.1)"), e3);
        assertTrue(fails("attack.augment=\"dropout\"").getMessage().contains("attack.augment"));
    }

    @Test
    void perModelAugmentSwitch() {
        RoundConfig c = ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of(
                "models=[{path=\"a.pt\"}, {path=\"b.pt\", augment=false}, {path=\"c.pt\", role=target, augment=true}]"));
        assertTrue(c.models().get(0).augment(), "default: augmentations apply");
        assertFalse(c.models().get(1).augment());
        assertTrue(c.models().get(2).augment());
        assertTrue(fails("models=[{path=\"a.pt\", augment=maybe}]").getMessage().contains("augment"));
        assertTrue(fails("models=[{path=\"a.pt\", augmnet=false}]").getMessage().contains("advspark.models[0].augmnet"));
    }

    @Test
    void shippedDropoutRoundParses() {
        RoundConfig c = ConfigLoader.load(new java.io.File("conf/demo-dropout.conf"), List.of());
        assertEquals(List.of(Catalogue.parse(Kind.AUGMENT, "dropout(p=0.05)")), c.attack().augment());
        assertEquals(2, c.surrogates().size());
        assertTrue(c.surrogates().get(0).augment());
        assertFalse(c.surrogates().get(1).augment());
    }
}
