package io.advspark.vocabulary;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.advspark.attack.EnsembleMode;
import io.advspark.attack.Parts;
import io.advspark.attack.init.UniformInit;
import io.advspark.attack.init.ZeroInit;
import io.advspark.attack.loss.CrossEntropy;
import io.advspark.attack.loss.Margin;
import io.advspark.attack.update.Momentum;
import io.advspark.attack.update.SignIterative;
import io.advspark.defense.DefenseChain;
import io.advspark.defense.Defenses;
import io.advspark.defense.ResizePad;
import io.advspark.plan.ConfigLoader;
import io.advspark.score.Scoring;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Freezes every canonical spec string the code writes: part, defense and score specs, defense
 * chains, ensemble modes and whole-attack specs. Seeds ({@code Draws.seedFor(round, attack.spec(),
 * image)}, {@code Draws.seedFor(round, chain.spec(), image)}), record identities (the attack and
 * chain columns) and resume all key on these strings, so not one byte may move. The expected
 * strings were produced once by running the code of main at commit ceef954 (before the catalogue
 * existed) and are hard-coded here; never regenerate them from the code under test.
 */
class CanonicalSpecGoldenTest {
    private static void check(String kind, Function<String, String> f, String[][] cases) {
        List<String> wrong = new ArrayList<>();
        for (String[] c : cases) {
            String got = f.apply(c[0]);
            if (!c[1].equals(got)) {
                wrong.add(kind + " '" + c[0] + "': expected " + c[1] + " but got " + got);
            }
        }
        assertEquals(List.of(), wrong);
    }

    private static final String[][] UPDATE = {
        {"fgsm", "fgsm"},
        {"ifgsm", "ifgsm"},
        {"bim", "ifgsm"},
        {"pgd", "pgd"},
        {"FGSM", "fgsm"},
        {"mi", "mi(decay=1)"},
        {"mi(decay=1)", "mi(decay=1)"},
        {"mi(decay=1.0)", "mi(decay=1)"},
        {"mi(decay=0.5)", "mi(decay=0.5)"},
        {"mi(decay=2)", "mi(decay=2)"},
        {"mi(decay=0)", "mi(decay=0)"},
        {"mi(decay=1e-3)", "mi(decay=0.001)"},
        {"mi(decay=100)", "mi(decay=100)"},
        {"MI(DECAY=1)", "mi(decay=1)"},
        {"ni", "ni(decay=1)"},
        {"ni(decay=0.9)", "ni(decay=0.9)"},
        {"vmi", "vmi(decay=1,n=20,beta=1.5)"},
        {"vmi(n=5, beta=1.5)", "vmi(decay=1,n=5,beta=1.5)"},
        {"vmi(decay=0.5,n=10,beta=2)", "vmi(decay=0.5,n=10,beta=2)"},
        {"vmi(beta=0.25)", "vmi(decay=1,n=20,beta=0.25)"},
        {"vni", "vni(decay=1,n=20,beta=1.5)"},
        {"vni(n=1,beta=0)", "vni(decay=1,n=1,beta=0)"},
        {"vni(decay=1.5, n=+7)", "vni(decay=1.5,n=7,beta=1.5)"},
    };

    @Test
    void updateSpecs() {
        check("update", s -> Parts.update(s).spec(), UPDATE);
    }

    private static final String[][] LOSS = {
        {"ce", "ce(untargeted=1,targeted=0)"},
        {"ce(untargeted=1, targeted=4)", "ce(untargeted=1,targeted=4)"},
        {"ce(untargeted=0.5,targeted=0)", "ce(untargeted=0.5,targeted=0)"},
        {"ce(untargeted=-1,targeted=1.5)", "ce(untargeted=-1,targeted=1.5)"},
        {"ce(targeted=1.0)", "ce(untargeted=1,targeted=1)"},
        {"logit", "logit"},
        {"margin", "margin(targeted=false)"},
        {"margin(targeted=true)", "margin(targeted=true)"},
        {"margin(targeted=TRUE,kappa=5)", "margin(targeted=true,kappa=5.0)"},
        {"margin(kappa=0.5)", "margin(targeted=false,kappa=0.5)"},
        {"margin(targeted=false)", "margin(targeted=false)"},
        {"cw", "margin(targeted=false)"},
        {"cw(kappa=10)", "margin(targeted=false,kappa=10.0)"},
        {"potrip", "potrip(lambda=0.01,margin=0.007)"},
        {"potrip(lambda=0.5, margin=0.3)", "potrip(lambda=0.5,margin=0.3)"},
        {"potrip(lambda=1, margin=0)", "potrip(lambda=1.0,margin=0.0)"},
        {"potrip(lambda=1e-4)", "potrip(lambda=1.0E-4,margin=0.007)"},
    };

    @Test
    void lossSpecs() {
        check("loss", s -> Parts.loss(s).spec(), LOSS);
    }

    private static final String[][] INIT = {
        {"zeros", "zeros"},
        {"uniform", "uniform(radius=1.0)"},
        {"uniform(radius=0.5)", "uniform(radius=0.5)"},
        {"uniform(radius=1)", "uniform(radius=1.0)"},
        {"uniform(radius=0)", "uniform(radius=0.0)"},
        {"gaussian", "gaussian(sigma=0.5)"},
        {"gaussian(sigma=2)", "gaussian(sigma=2.0)"},
        {"gaussian(sigma=0.25)", "gaussian(sigma=0.25)"},
        {"perlin", "perlin(period=60.0,octaves=4,sine=36.0,amplitude=1.0,map=sine)"},
        {"perlin(period=20, octaves=2, sine=12, map=sign)", "perlin(period=20.0,octaves=2,sine=12.0,amplitude=1.0,map=sign)"},
        {"perlin(period=6.5,amplitude=0.5)", "perlin(period=6.5,octaves=4,sine=36.0,amplitude=0.5,map=sine)"},
        {"perlin(map=sine)", "perlin(period=60.0,octaves=4,sine=36.0,amplitude=1.0,map=sine)"},
        {"perlin(map=SIGN)", "perlin(period=60.0,octaves=4,sine=36.0,amplitude=1.0,map=sign)"},
        {"perlin(octaves=8,sine=0)", "perlin(period=60.0,octaves=8,sine=0.0,amplitude=1.0,map=sine)"},
        {"target", "target(alpha=1.0)"},
        {"target(alpha=0.25)", "target(alpha=0.25)"},
        {"target(alpha=1)", "target(alpha=1.0)"},
    };

    @Test
    void initSpecs() {
        check("init", s -> Parts.init(s).spec(), INIT);
    }

    private static final String[][] INPUT = {
        {"di", "di(p=0.5,resize=1.1)"},
        {"di(p=1.0)", "di(p=1.0,resize=1.1)"},
        {"di(p=1)", "di(p=1.0,resize=1.1)"},
        {"di(p=0.7, resize=1.1)", "di(p=0.7,resize=1.1)"},
        {"di(resize=2)", "di(p=0.5,resize=2.0)"},
        {"si", "si(copies=5)"},
        {"si(copies=3)", "si(copies=3)"},
        {"si(copies=+3)", "si(copies=3)"},
        {"admix", "admix(strength=0.2,mixes=3,copies=5)"},
        {"admix(strength=0.5,mixes=2,copies=4)", "admix(strength=0.5,mixes=2,copies=4)"},
        {"admix(strength=1)", "admix(strength=1.0,mixes=3,copies=5)"},
        {"translate", "translate(max=0.1)"},
        {"translate(max=0.25)", "translate(max=0.25)"},
        {"translate(max=0)", "translate(max=0.0)"},
        {"rotate", "rotate(degrees=10.0)"},
        {"rotate(degrees=0)", "rotate(degrees=0.0)"},
        {"rotate(degrees=12.5)", "rotate(degrees=12.5)"},
        {"rotate(degrees=180)", "rotate(degrees=180.0)"},
        {"flip", "flip(p=0.5)"},
        {"flip(p=1)", "flip(p=1.0)"},
        {"flip(p=0.25)", "flip(p=0.25)"},
        {"noise", "noise(std=0.05)"},
        {"noise(std=0.1)", "noise(std=0.1)"},
        {"noise(std=1)", "noise(std=1.0)"},
        {"brightness", "brightness(m=5)"},
        {"brightness(m=1)", "brightness(m=1)"},
        {"brightness(m=32)", "brightness(m=32)"},
        {"jpeg", "jpeg(quality=75)"},
        {"jpeg(quality=50)", "jpeg(quality=50)"},
        {"jpeg(quality=0)", "jpeg(quality=0)"},
        {"jpeg(quality=100)", "jpeg(quality=100)"},
    };

    @Test
    void inputSpecs() {
        check("input", s -> Parts.input(s).spec(), INPUT);
    }

    private static final String[][] GRADIENT = {
        {"ti", "ti(kernel=gaussian,size=15,sigma=3.0)"},
        {"ti(size=7)", "ti(kernel=gaussian,size=7,sigma=3.0)"},
        {"ti(kernel=uniform)", "ti(kernel=uniform,size=15,sigma=3.0)"},
        {"ti(kernel=linear,size=5,sigma=1.5)", "ti(kernel=linear,size=5,sigma=1.5)"},
        {"ti(kernel=GAUSSIAN,sigma=4)", "ti(kernel=gaussian,size=15,sigma=4.0)"},
        {"ti(sigma=1e-3)", "ti(kernel=gaussian,size=15,sigma=0.001)"},
        {"l1", "l1"},
    };

    @Test
    void gradientSpecs() {
        check("gradient", s -> Parts.gradient(s).spec(), GRADIENT);
    }

    private static final String[][] FILTER = {
        {"gaussian", "gaussian(sigma=1.0)"},
        {"gaussian(sigma=0.5)", "gaussian(sigma=0.5)"},
        {"gaussian(sigma=2)", "gaussian(sigma=2.0)"},
        {"gaussian(sigma=50)", "gaussian(sigma=50.0)"},
        {"dct", "dct(keep=0.25)"},
        {"dct(keep=0.5)", "dct(keep=0.5)"},
        {"dct(keep=1)", "dct(keep=1.0)"},
        {"dct(keep=1e-4)", "dct(keep=1.0E-4)"},
    };

    @Test
    void filterSpecs() {
        check("filter", s -> Parts.filter(s).spec(), FILTER);
    }

    private static final String[][] AUGMENT = {
        {"dropout", "dropout(p=0.006)"},
        {"dropout(p=0.1)", "dropout(p=0.1)"},
        {"dropout(p=0)", "dropout(p=0.0)"},
        {"dropout(p=0.5)", "dropout(p=0.5)"},
        {"dropout(p=0.99)", "dropout(p=0.99)"},
    };

    @Test
    void augmentSpecs() {
        check("augment", s -> Parts.augment(s).spec(), AUGMENT);
    }

    private static final String[][] DEFENSE = {
        {"jpeg", "jpeg(quality=75)"},
        {"jpeg(75)", "jpeg(quality=75)"},
        {"jpeg(quality=50)", "jpeg(quality=50)"},
        {"jpeg(1)", "jpeg(quality=1)"},
        {"JPEG(Quality=100)", "jpeg(quality=100)"},
        {"bits", "bits(bits=4)"},
        {"bits(4)", "bits(bits=4)"},
        {"bits(bits=1)", "bits(bits=1)"},
        {"bits(8)", "bits(bits=8)"},
        {"rp", "rp(ratio=1.1070)"},
        {"rp(1.2)", "rp(ratio=1.2000)"},
        {"rp(ratio=1.10702341)", "rp(ratio=1.1070)"},
        {"rp(ratio=2)", "rp(ratio=2.0000)"},
        {"rp(4)", "rp(ratio=4.0000)"},
        {"rp(ratio=1.00005)", "rp(ratio=1.0001)"},
        {"median", "median(size=3)"},
        {"median(5)", "median(size=5)"},
        {"median(size=3)", "median(size=3)"},
        {"median(31)", "median(size=31)"},
        {"blur", "blur(sigma=1.0)"},
        {"blur(2)", "blur(sigma=2.0)"},
        {"blur(sigma=0.5)", "blur(sigma=0.5)"},
        {"blur(sigma=0.01)", "blur(sigma=0.01)"},
    };

    @Test
    void defenseSpecs() {
        check("defense", s -> Defenses.parse(s).spec(), DEFENSE);
    }

    private static final String[][] CHAIN = {
        {"model", "model randomised=false"},
        {"none", "model randomised=false"},
        {"MODEL", "model randomised=false"},
        {"jpeg(75) > bits(4) > model", "jpeg(quality=75) > bits(bits=4) > model randomised=false"},
        {"rp > model", "rp(ratio=1.1070) > model randomised=true"},
        {"median(3) > blur(sigma=1)", "median(size=3) > blur(sigma=1.0) > model randomised=false"},
        {"JPEG(quality=60)>rp(1.2)>model", "jpeg(quality=60) > rp(ratio=1.2000) > model randomised=true"},
        {"bits(2) > jpeg > median > blur > rp > model", "bits(bits=2) > jpeg(quality=75) > median(size=3) > blur(sigma=1.0) > rp(ratio=1.1070) > model randomised=true"},
    };

    @Test
    void chainSpecs() {
        check("chain", s -> DefenseChain.parse(s).spec() + " randomised=" + DefenseChain.parse(s).randomised(), CHAIN);
    }

    private static final String[][] SCORE = {
        {"tianchi2019", "tianchi2019(eps=32)"},
        {"tianchi2019(eps=16)", "tianchi2019(eps=16)"},
        {"tianchi2019(eps=16.5)", "tianchi2019(eps=16.5)"},
        {"tianchi2019(eps=32.0)", "tianchi2019(eps=32)"},
        {"tianchi2019(eps=255)", "tianchi2019(eps=255)"},
        {"nips2017", "nips2017(targeted=false)"},
        {"nips2017(targeted=true)", "nips2017(targeted=true)"},
        {"nips2017(targeted=TRUE)", "nips2017(targeted=true)"},
        {"nips2017(targeted=false)", "nips2017(targeted=false)"},
        {"asr", "asr(targeted=false)"},
        {"asr(targeted=true)", "asr(targeted=true)"},
        {"asr(targeted=false)", "asr(targeted=false)"},
    };

    @Test
    void scoreSpecs() {
        check("score", s -> Scoring.parse(s).spec(), SCORE);
    }

    private static final String[][] CONFIG_SCORE = {
        {"tianchi2019", "tianchi2019(eps=32)"},
        {"asr(targeted=true)", "asr(targeted=true)"},
        {"nips2017", "nips2017(targeted=false)"},
    };

    @Test
    void configScoreSpecs() {
        check("configScore", s -> ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of("advspark.evaluate.score=\"" + s + "\"")).score().spec(),
                CONFIG_SCORE);
    }

    private static final String[][] ENSEMBLE = {
        {"LOGITS", "logits"},
        {"PROBS", "probs"},
        {"LOSSES", "losses"},
    };

    @Test
    void ensembleSpecs() {
        check("ensemble", s -> EnsembleMode.valueOf(s).spec(), ENSEMBLE);
    }

    /** The ensemble strategies' canonical specs (seeds of SVRE's member draws key on them). */
    private static final String[][] ENSEMBLE_STRATEGY = {
        {"logits", "logits"},
        {"svre", "svre(m=0,inner_decay=1,beta=1)"},
        {"svre(m=16, inner_decay=1.0, beta=1.0)", "svre(m=16,inner_decay=1,beta=1)"},
        {"cwa", "cwa(r=0.06666666666666667,beta=250,inner_decay=1)"},
        {"cwa(r=0.2, beta=0.5)", "cwa(r=0.2,beta=0.5,inner_decay=1)"},
        {"adaea", "adaea(beta=10,threshold=-0.3)"},
        {"adaea(beta=2, threshold=0.2)", "adaea(beta=2,threshold=0.2)"},
    };

    @Test
    void ensembleStrategySpecs() {
        check("ensemble", s -> io.advspark.attack.Parts.ensemble(s).spec(), ENSEMBLE_STRATEGY);
    }

    private static final String[][] ATTACK = {
        {"", "eps=8 steps=10 step=0.8 update=mi(decay=1) loss=ce(untargeted=1,targeted=0) init=zeros"},
        {"advspark.attack.update=fgsm", "eps=8 steps=1 step=8 update=fgsm loss=ce(untargeted=1,targeted=0) init=zeros"},
        {"advspark.attack.update=pgd", "eps=8 steps=10 step=0.8 update=pgd loss=ce(untargeted=1,targeted=0) init=uniform(radius=1.0)"},
        {"advspark.attack.update=pgd ; advspark.attack.init=gaussian", "eps=8 steps=10 step=0.8 update=pgd loss=ce(untargeted=1,targeted=0) init=gaussian(sigma=0.5)"},
        {"advspark.attack.update=bim ; advspark.attack.steps=7", "eps=8 steps=7 step=1.1428571428571428 update=ifgsm loss=ce(untargeted=1,targeted=0) init=zeros"},
        {"advspark.attack.objective=targeted", "eps=8 steps=10 step=0.8 update=mi(decay=1) loss=ce(untargeted=0,targeted=1) init=zeros"},
        {"advspark.attack.objective=weighted ; advspark.attack.untargeted-weight=0.5 ; advspark.attack.targeted-weight=2", "eps=8 steps=10 step=0.8 update=mi(decay=1) loss=ce(untargeted=0.5,targeted=2) init=zeros"},
        {"advspark.attack.decay=0", "eps=8 steps=10 step=0.8 update=mi(decay=0) loss=ce(untargeted=1,targeted=0) init=zeros"},
        {"advspark.attack.decay=0.5", "eps=8 steps=10 step=0.8 update=mi(decay=0.5) loss=ce(untargeted=1,targeted=0) init=zeros"},
        {"advspark.attack.eps=16 ; advspark.attack.steps=20 ; advspark.attack.step-size=1.5", "eps=16 steps=20 step=1.5 update=mi(decay=1) loss=ce(untargeted=1,targeted=0) init=zeros"},
        {"advspark.attack.eps=4 ; advspark.attack.steps=3", "eps=4 steps=3 step=1.3333333333333333 update=mi(decay=1) loss=ce(untargeted=1,targeted=0) init=zeros"},
        {"advspark.attack.eps=32 ; advspark.attack.steps=10 ; advspark.attack.step-size=2.0", "eps=32 steps=10 step=2 update=mi(decay=1) loss=ce(untargeted=1,targeted=0) init=zeros"},
        {"advspark.attack.update=\"vni(n=5)\" ; advspark.attack.loss=potrip ; advspark.attack.init=\"perlin(period=20)\" ; advspark.attack.input=[\"di(p=0.7, resize=1.1)\", \"si(copies=3)\", admix] ; advspark.attack.gradient=[\"ti(size=7)\", l1] ; advspark.attack.filter=\"dct(keep=0.5)\" ; advspark.attack.copies=2 ; advspark.attack.ensemble=probs ; advspark.attack.augment=[\"dropout(p=0.1)\"]", "eps=8 steps=10 step=0.8 update=vni(decay=1,n=5,beta=1.5) loss=potrip(lambda=0.01,margin=0.007) init=perlin(period=20.0,octaves=4,sine=36.0,amplitude=1.0,map=sine) input=[di(p=0.7,resize=1.1),si(copies=3),admix(strength=0.2,mixes=3,copies=5)] gradient=[ti(kernel=gaussian,size=7,sigma=3.0),l1] filter=dct(keep=0.5) copies=2 ensemble=probs augment=[dropout(p=0.1)]"},
        {"advspark.attack.ensemble=losses ; advspark.attack.loss=\"margin(kappa=5)\" ; advspark.attack.init=\"target(alpha=0.5)\" ; advspark.attack.filter=\"gaussian(sigma=2)\" ; advspark.attack.input=[translate, rotate, flip, noise, brightness, jpeg]", "eps=8 steps=10 step=0.8 update=mi(decay=1) loss=margin(targeted=false,kappa=5.0) init=target(alpha=0.5) input=[translate(max=0.1),rotate(degrees=10.0),flip(p=0.5),noise(std=0.05),brightness(m=5),jpeg(quality=75)] filter=gaussian(sigma=2.0) ensemble=losses"},
        {"advspark.attack.update=\"mi(decay=1.0)\" ; advspark.attack.loss=\"ce(untargeted=1, targeted=0)\" ; advspark.attack.input=[\"di(p=0.5, resize=1.1)\"] ; advspark.attack.gradient=[\"ti(kernel=gaussian, size=15, sigma=3)\"]", "eps=8 steps=10 step=0.8 update=mi(decay=1) loss=ce(untargeted=1,targeted=0) init=zeros input=[di(p=0.5,resize=1.1)] gradient=[ti(kernel=gaussian,size=15,sigma=3.0)]"},
        {"advspark.attack.update=\"vmi(decay=1, n=20, beta=1.5)\" ; advspark.attack.loss=cw ; advspark.attack.init=\"uniform(radius=0.5)\" ; advspark.attack.augment=[dropout, \"dropout(p=0.2)\"] ; advspark.attack.ensemble=logits", "eps=8 steps=10 step=0.8 update=vmi(decay=1,n=20,beta=1.5) loss=margin(targeted=false) init=uniform(radius=0.5) augment=[dropout(p=0.006),dropout(p=0.2)]"},
        {"advspark.attack.update=ni ; advspark.attack.loss=logit ; advspark.attack.init=\"gaussian(sigma=0.25)\" ; advspark.attack.input=[\"admix(strength=0.5, mixes=2, copies=4)\"]", "eps=8 steps=10 step=0.8 update=ni(decay=1) loss=logit init=gaussian(sigma=0.25) input=[admix(strength=0.5,mixes=2,copies=4)]"},
    };

    @Test
    void attackSpecs() {
        check("attack", s -> attackSpec(s), ATTACK);
    }

    /** Parts the code builds directly (attack defaults, PGD's start) rather than from a spec. */
    @Test
    void directlyBuiltParts() {
        assertEquals("mi(decay=1)", new Momentum(1.0, false, 0, 0).spec());
        assertEquals("mi(decay=0)", new Momentum(0.0, false, 0, 0).spec());
        assertEquals("ni(decay=0.9)", new Momentum(0.9, true, 0, 0).spec());
        assertEquals("vmi(decay=1,n=20,beta=1.5)", new Momentum(1.0, false, 20, 1.5).spec());
        assertEquals("vni(decay=1,n=5,beta=2)", new Momentum(1.0, true, 5, 2.0).spec());
        assertEquals("ce(untargeted=1,targeted=0)", new CrossEntropy(1, 0).spec());
        assertEquals("ce(untargeted=0,targeted=1)", new CrossEntropy(0, 1).spec());
        assertEquals("ce(untargeted=0.5,targeted=2)", new CrossEntropy(0.5, 2).spec());
        assertEquals("uniform(radius=1.0)", new UniformInit(1.0).spec());
        assertEquals("pgd", new SignIterative("pgd").spec());
        assertEquals("zeros", new ZeroInit().spec());
        assertEquals("margin(targeted=true,kappa=3.5)", new Margin(true, 3.5).spec());
        assertEquals("rp(ratio=1.1070)", new ResizePad(331.0 / 299.0).spec());
    }

    /** Overrides separated by " ; ", loaded over reference.conf, built as the job builds them. */
    private static String attackSpec(String overrides) {
        List<String> o = overrides.isEmpty() ? List.of() : List.of(overrides.split(" ; "));
        return (ConfigLoader.load(io.advspark.testing.Rounds.TINY, o).attack()).toAttack().spec();
    }
}
