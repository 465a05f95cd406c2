package io.advspark.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.vocabulary.ConfigException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The score-aware keys: validation models (held out of the attack and of the scoring),
 * {@code attack.stop}, {@code attack.search}; each mistake is refused naming its key or entries.
 */
class ScoreAwareConfigTest {
    private static final String MODELS = "models=[{path=\"demo/models/tiny_a.pt\"},"
            + " {path=\"demo/models/tiny_b.pt\", role=validation, defenses=[\"model\", \"jpeg(75) > model\"]},"
            + " {path=\"demo/models/tiny_c.pt\", role=target}]";

    private static RoundConfig load(String... overrides) {
        return ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of(overrides));
    }

    private static String fails(String... overrides) {
        return assertThrows(ConfigException.class, () -> load(overrides)).getMessage();
    }

    @Test
    void validationModelsAreTheirOwnRoleWithDefenses() {
        RoundConfig c = load(MODELS, "attack.stop=validation", "attack.stop-every=2");
        assertEquals(1, c.validation().size());
        assertEquals(2, c.validation().get(0).defenses().size());
        assertEquals(1, c.targets().size());
        assertEquals(1, c.surrogates().size());
        assertEquals(new ScoreAware.Stop(ScoreAware.Until.VALIDATION, 2), c.attack().stop());
        assertTrue(c.attack().usesValidation());
        String id = c.identity(c.attacks().get(0), c.attack().toAttack());
        assertTrue(id.startsWith(c.attack().toAttack().spec() + " stop=validation(every=2) validation=["), id);
        assertTrue(id.contains("tiny_b.pt [model, jpeg(quality=75) > model]"), id);
    }

    @Test
    void withoutScoreAwareKeysTheIdentityIsTheSpec() {
        RoundConfig c = load(MODELS);
        assertNull(c.attack().stop());
        assertNull(c.attack().search());
        assertEquals(c.attack().toAttack().spec(), c.identity(c.attacks().get(0), c.attack().toAttack()));
    }

    @Test
    void aModelIsNeverBothValidationAndTargetOrSurrogate() {
        String both = fails("models=[{path=\"demo/models/tiny_a.pt\"}, {path=\"demo/models/tiny_b.pt\", role=validation},"
                + " {path=\"demo/models/tiny_b.pt\", role=target}]");
        assertTrue(both.contains("advspark.models[1] (role = validation) and advspark.models[2] (role = target)"), both);
        String attacked = fails("models=[{path=\"demo/models/tiny_a.pt\"}, {path=\"demo/models/tiny_a.pt\", role=validation}]");
        assertTrue(attacked.contains("(role = surrogate) are the same model"), attacked);
    }

    @Test
    void stoppingOnValidationNeedsValidationModels() {
        String m = fails("attack.stop=validation");
        assertTrue(m.contains("no model with role = validation"), m);
        String s = fails("attack.search.eps=[4, 8]");
        assertTrue(s.contains("no model with role = validation"), s); // until defaults to validation
        load("attack.stop=surrogates", "attack.search.eps=[4, 8]", "attack.search.until=surrogates");
    }

    @Test
    void searchBudgetsReplaceEpsAndScaleTheStep() {
        RoundConfig c = load(MODELS, "attack.search.eps=[4, 8, 16]", "attack.search.mode=bisect", "attack.steps=8");
        AttackConfig a = c.attack();
        assertEquals(16.0, a.epsPixels());
        assertEquals(2.0, a.stepSizePixels(), 1e-12);
        assertEquals(ScoreAware.Mode.BISECT, a.search().mode());
        AttackConfig at4 = a.atEps(4);
        assertEquals(4.0, at4.epsPixels());
        assertEquals(0.5, at4.stepSizePixels(), 1e-12);
        // An attempt is a search of its one budget: judged on the same set, named without the others.
        assertEquals(new ScoreAware.Search(List.of(4.0), ScoreAware.Until.VALIDATION, ScoreAware.Mode.LADDER), at4.search());
        assertEquals(" search=bisect(eps=[4,8,16],until=validation)", a.scoreAwareSpec());
    }

    @Test
    void badScoreAwareValuesNameTheirKey() {
        assertTrue(fails(MODELS, "attack.stop=targets").contains("advspark.attack.stop: 'targets'"));
        assertTrue(fails(MODELS, "attack.stop=surrogates", "attack.stop-every=0").contains("advspark.attack.stop-every"));
        assertTrue(fails(MODELS, "attack.search.eps=[8, 4]").contains("ascending"));
        assertTrue(fails(MODELS, "attack.search.eps=[0, 4]").contains("(0, 255]"));
        assertTrue(fails(MODELS, "attack.search.eps=[4]", "attack.search.mode=binary").contains("advspark.attack.search.mode"));
        assertTrue(fails(MODELS, "attack.search.eps=[4]", "attack.search.until=all").contains("advspark.attack.search.until"));
        assertTrue(fails("models=[{path=\"demo/models/tiny_a.pt\"}, {path=\"demo/models/tiny_b.pt\", role=judge}]")
                .contains("(surrogate, target or validation)"));
    }

    @Test
    void theScoreAwareRecipesLoadWithTheirSplits() {
        RoundConfig nips = ConfigLoader.load(new java.io.File("conf/score-aware/nips17.conf"), List.of());
        assertEquals(2, nips.surrogates().size());
        assertEquals(1, nips.validation().size());
        assertTrue(nips.targets().isEmpty());
        assertEquals(List.of(8.0, 16.0, 24.0, 32.0), nips.attack().search().epsPixels());
        assertEquals(1, nips.attack().search().margin());
        assertEquals(5, nips.attack().metTopK());
        assertEquals(2, nips.validation().get(0).defenses().size());
        assertEquals(32.0, nips.attack().epsPixels());
        RoundConfig cifar = ConfigLoader.load(new java.io.File("conf/score-aware/cifar10.conf"), List.of());
        assertEquals(2, cifar.targets().size());
        assertTrue(cifar.validation().get(0).path().endsWith("resnet32.pt"));
        assertEquals(List.of(4.0, 8.0, 12.0, 16.0), cifar.attack().search().epsPixels());
        assertEquals(ScoreAware.Until.VALIDATION, cifar.attack().search().until());
    }

    @Test
    void theWalksFindTheSmallestMetBudgetAndKeepTheMarginAboveIt() {
        Boolean t = true;
        Boolean f = false;
        // Ladder: in order up to the first met budget.
        assertEquals(new ScoreAware.Walk(0, -1), ScoreAware.walk(ScoreAware.Mode.LADDER, 0, new Boolean[5]));
        assertEquals(new ScoreAware.Walk(2, -1), ScoreAware.walk(ScoreAware.Mode.LADDER, 0, new Boolean[] {f, f, null, null, null}));
        assertEquals(new ScoreAware.Walk(-1, 1), ScoreAware.walk(ScoreAware.Mode.LADDER, 0, new Boolean[] {f, t, null, null, null}));
        assertEquals(new ScoreAware.Walk(-1, 4), ScoreAware.walk(ScoreAware.Mode.LADDER, 0, new Boolean[] {f, f, f, f, f}));
        // Margin: one or two places above, attempted first, capped at the largest.
        assertEquals(new ScoreAware.Walk(3, -1), ScoreAware.walk(ScoreAware.Mode.LADDER, 2, new Boolean[] {f, t, null, null, null}));
        assertEquals(new ScoreAware.Walk(-1, 3), ScoreAware.walk(ScoreAware.Mode.LADDER, 2, new Boolean[] {f, t, null, f, null}));
        assertEquals(new ScoreAware.Walk(-1, 4), ScoreAware.walk(ScoreAware.Mode.LADDER, 3, new Boolean[] {f, f, t, null, t}));
        // Bisect over 5: the middle first, then the half that holds the smallest met budget.
        assertEquals(new ScoreAware.Walk(2, -1), ScoreAware.walk(ScoreAware.Mode.BISECT, 0, new Boolean[5]));
        assertEquals(new ScoreAware.Walk(1, -1), ScoreAware.walk(ScoreAware.Mode.BISECT, 0, new Boolean[] {null, null, t, null, null}));
        assertEquals(new ScoreAware.Walk(-1, 2), ScoreAware.walk(ScoreAware.Mode.BISECT, 0, new Boolean[] {null, f, t, null, null}));
        assertEquals(new ScoreAware.Walk(4, -1), ScoreAware.walk(ScoreAware.Mode.BISECT, 0, new Boolean[] {null, null, f, f, null}));
        assertEquals(new ScoreAware.Walk(-1, 4), ScoreAware.walk(ScoreAware.Mode.BISECT, 0, new Boolean[] {null, null, f, f, f}));
        assertEquals(new ScoreAware.Walk(3, -1), ScoreAware.walk(ScoreAware.Mode.BISECT, 1, new Boolean[] {null, f, t, null, null}));
        assertTrue(fails(MODELS, "attack.search.eps=[4, 8]", "attack.search.margin=2").contains("search.margin must be in 0..1"));
        assertEquals(" search=ladder(eps=[4,8],until=validation,margin=1)",
                load(MODELS, "attack.search.eps=[4, 8]", "attack.search.margin=1").attack().scoreAwareSpec());
    }

    @Test
    void theObjectiveDecidesWhatCountsAsMet() {
        AttackConfig u = AttackConfig.builder().build();
        assertTrue(u.met(3, 2, 5));
        assertTrue(!u.met(2, 2, 5));
        AttackConfig t = AttackConfig.builder().objective(AttackConfig.Objective.TARGETED).build();
        assertTrue(t.met(5, 2, 5));
        assertTrue(!t.met(3, 2, 5));
        AttackConfig w = AttackConfig.builder().objective(AttackConfig.Objective.WEIGHTED).weights(1, 0).build();
        assertTrue(w.met(3, 2, 5));
        // met-top-k: untargeted needs the true label out of the first k; targeted stays top-1.
        AttackConfig k3 = AttackConfig.builder().metTopK(3).build();
        assertTrue(!k3.met(new int[] {3, 4, 2, 7, 8}, 2, 5));
        assertTrue(k3.met(new int[] {3, 4, 6, 2, 8}, 2, 5));
        assertTrue(AttackConfig.builder().metTopK(3).objective(AttackConfig.Objective.TARGETED).build()
                .met(new int[] {5, 2, 1}, 2, 5));
        RoundConfig c = load(MODELS, "attack.stop=validation", "attack.met-top-k=5");
        assertEquals(5, c.attack().metTopK());
        assertTrue(c.identity(c.attacks().get(0), c.attack().toAttack()).contains(" stop=validation(every=1) met-top-k=5"));
        assertEquals("", load(MODELS, "attack.met-top-k=5").attack().scoreAwareSpec());
        assertTrue(fails(MODELS, "attack.met-top-k=6").contains("met-top-k must be in 1..5"));
    }
}
