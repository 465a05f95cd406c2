package io.advspark.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.vocabulary.Catalogue;
import io.advspark.vocabulary.ConfigException;
import io.advspark.vocabulary.Kind;
import java.io.File;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A round as a batch of attack configs: advspark.attacks over advspark.attack, and advspark.grid. */
class AttacksConfigTest {

    private static RoundConfig load(String... overrides) {
        return ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of(overrides));
    }

    private static String fails(String... overrides) {
        return assertThrows(ConfigException.class, () -> load(overrides)).getMessage();
    }

    @Test
    void aSingleAttackIsNamedByAttackName() {
        assertEquals(List.of("main"), load().attacks().stream().map(NamedAttack::name).toList());
        assertEquals(List.of("mi16"), load("attack.name=mi16").attacks().stream().map(NamedAttack::name).toList());
    }

    @Test
    void entriesOverlayTheBaseAttack() {
        RoundConfig c = load("attack.eps=16", "attack.steps=7",
                "attacks=[{name=mi}, {name=mi-di, input=[\"di(p=0.5, resize=1.1)\"]}, {name=big, eps=32}]");
        assertEquals(List.of("mi", "mi-di", "big"), c.attacks().stream().map(NamedAttack::name).toList());
        assertEquals(16.0, c.attacks().get(0).config().epsPixels());
        assertEquals(List.of(), c.attacks().get(0).config().inputs());
        assertEquals(List.of(Catalogue.parse(Kind.INPUT, "di(p=0.5, resize=1.1)")), c.attacks().get(1).config().inputs());
        assertEquals(7, c.attacks().get(1).config().steps(), "inherited from advspark.attack");
        assertEquals(32.0, c.attacks().get(2).config().epsPixels());
        assertEquals(32.0 / 7, c.attacks().get(2).config().stepSizePixels(), 1e-12, "step = the entry's eps / steps");
    }

    @Test
    void aGridCrossesEveryAttackWithEveryCombination() {
        RoundConfig c = load("attacks=[{name=mi}, {name=ni, update=\"ni(decay=1.0)\"}]", "grid={eps=[4, 8.5], steps=[5, 10]}");
        assertEquals(List.of("mi-eps4-steps5", "mi-eps4-steps10", "mi-eps8.5-steps5", "mi-eps8.5-steps10",
                        "ni-eps4-steps5", "ni-eps4-steps10", "ni-eps8.5-steps5", "ni-eps8.5-steps10"),
                c.attacks().stream().map(NamedAttack::name).toList());
        AttackConfig last = c.attacks().get(7).config();
        assertEquals(8.5, last.epsPixels());
        assertEquals(10, last.steps());
        assertEquals(Catalogue.parse(Kind.UPDATE, "ni(decay=1.0)"), last.update());
        // the single-attack form takes a grid too
        assertEquals(List.of("main-steps1", "main-steps2"),
                load("grid={steps=[1, 2]}").attacks().stream().map(NamedAttack::name).toList());
    }

    @Test
    void theShippedAblationRoundHasSixConfigs() {
        RoundConfig c = ConfigLoader.load(new File("conf/cifar10-ablation.conf"), List.of());
        assertEquals(List.of("mi-eps4", "mi-eps8", "mi-di-eps4", "mi-di-eps8", "mi-di-ti-eps4", "mi-di-ti-eps8"),
                c.attacks().stream().map(NamedAttack::name).toList());
    }

    @Test
    void badEntriesNameTheirKey() {
        assertTrue(fails("attacks=[{eps=4}]").contains("advspark.attacks[0].name is required"));
        assertTrue(fails("attacks=[{name=a, epss=4}]").contains("'advspark.attacks[0].epss'"));
        assertTrue(fails("attacks=[{name=a}, {name=b, eps=400}]").contains("advspark.attacks[1].eps must be in (0, 255]"));
        assertTrue(fails("attacks=[{name=a}, {name=a}]").contains("'a' is used by two attack configurations"));
        assertTrue(fails("attacks=[{name=\"a/b\"}]").contains("advspark.attacks[0].name 'a/b'"));
        assertTrue(fails("attacks=[{name=a, input=[\"dj(p=1)\"]}]").contains("advspark.attacks[0]"));
        assertTrue(fails("attacks=[\"mi\"]").contains("'advspark.attacks[0]' must be an object"));
        assertTrue(fails("grid={epss=[1]}").contains("'advspark.grid.epss'"));
        assertTrue(fails("grid={eps=4}").contains("'advspark.grid.eps' must be a non-empty list"));
        assertTrue(fails("grid={eps=[]}").contains("'advspark.grid.eps' must be a non-empty list"));
        assertTrue(fails("grid={name=[a, b]}").contains("'advspark.grid.name'"));
        String e = fails("attacks=[{name=a}]", "grid={eps=[4, 300]}");
        assertTrue(e.contains("advspark.attacks[0] (grid {eps=300}).eps must be in (0, 255]"), e);
    }
}
