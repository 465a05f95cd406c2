package io.advspark.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.vocabulary.Catalogue;
import io.advspark.vocabulary.ConfigException;
import io.advspark.vocabulary.Kind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    private static ConfigException fails(String... overrides) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of(overrides)));
    }

    @Test
    void defaultsAreTheDemoRound() {
        RoundConfig c = ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of());
        assertEquals("demo", c.roundId());
        assertEquals(2, c.surrogates().size());
        assertEquals(8.0, c.attack().epsPixels());
        assertEquals(0.8, c.attack().stepSizePixels(), 1e-12, "step defaults to eps/steps");
        assertTrue(c.dataset().uri().startsWith("file:/"), "relative paths become absolute URIs: " + c.dataset().uri());
    }

    @Test
    void theEmbeddedDemoRanksThreeAttacksOnAHeldOutTarget() {
        RoundConfig c = ConfigLoader.load(null, List.of());
        assertEquals("demo", c.roundId());
        assertEquals(List.of("mi", "mi-di", "mi-di-ti"), c.attacks().stream().map(NamedAttack::name).toList());
        assertEquals(2, c.surrogates().size());
        assertEquals(1, c.targets().size());
        // Inputs from the installation (here: the repository the classes were built in), output under the working folder.
        assertEquals(Path.of("demo/data").toAbsolutePath().toUri().toString().replaceFirst("/$", ""), c.dataset().uri());
        assertEquals(Path.of("out").toAbsolutePath().toUri().toString().replaceFirst("/$", "") + "/demo", c.roundUri());
    }

    @Test
    void relativePathsResolveAgainstTheFileThatWroteThem(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("rounds/mine"));
        Files.writeString(dir.resolve("models.conf"), "models = [{ path = \"nets/a.pt\" }, { path = \"nets/t.pt\", role = target,"
                + " defenses = [\"purify(path=den.pt) > model\"] }]\n");
        Path f = dir.resolve("my-round.conf");
        Files.writeString(f, "advspark {\n  dataset.uri = \"../data\"\n  round.output = \"out\"\n  include \"models.conf\"\n}\n");
        String base = tmp.toUri().toString();
        RoundConfig c = ConfigLoader.load(f.toFile(), List.of());
        assertEquals("my-round", c.roundId(), "named after the file");
        assertEquals(base + "rounds/data", c.dataset().uri());
        assertEquals(base + "rounds/mine/out/my-round", c.roundUri());
        assertEquals(base + "rounds/mine/nets/a.pt", c.surrogates().get(0).path());
        assertTrue(c.targets().get(0).defenses().get(0).spec().contains(base + "rounds/mine/den.pt"),
                c.targets().get(0).defenses().get(0).spec());
        // A --set value is a shell argument: it resolves against the working folder.
        RoundConfig set = ConfigLoader.load(f.toFile(), List.of("dataset.uri=elsewhere", "round.id=r"));
        assertEquals(Path.of("elsewhere").toAbsolutePath().toUri().toString().replaceFirst("/$", ""), set.dataset().uri());
        assertEquals("r", set.roundId());
    }

    @Test
    void aRoundFileNamesItsDataAndModels(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("r.conf");
        Files.writeString(f, "advspark.dataset.uri = \"data\"\n");
        ConfigException noModels = assertThrows(ConfigException.class, () -> ConfigLoader.load(f.toFile(), List.of()));
        assertTrue(noModels.getMessage().startsWith("advspark.models is empty"), noModels.getMessage());
        Files.writeString(f, "advspark.models = [{ path = \"a.pt\" }]\n");
        ConfigException noData = assertThrows(ConfigException.class, () -> ConfigLoader.load(f.toFile(), List.of()));
        assertTrue(noData.getMessage().startsWith("advspark.dataset.uri is required"), noData.getMessage());
    }

    @Test
    void overridesTakeEffectWithOrWithoutPrefix() {
        RoundConfig c = ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of("attack.eps=16", "advspark.attack.steps=20",
                "attack.objective=targeted", "round.output=s3a://bucket/x"));
        assertEquals(16.0, c.attack().epsPixels());
        assertEquals(20, c.attack().steps());
        assertEquals(0.0, c.attack().effectiveUntargetedWeight());
        assertEquals("s3a://bucket/x/demo", c.roundUri());
    }

    @Test
    void unknownKeysNameTheirPath() {
        assertTrue(fails("attack.epss=3").getMessage().contains("'advspark.attack.epss'"));
        assertTrue(fails("colour=red").getMessage().contains("'advspark.colour'"));
        assertTrue(fails("models=[{path=\"a.pt\", wieght=2}]").getMessage().contains("advspark.models[0].wieght"));
    }

    @Test
    void unknownTopLevelKeyInAFile(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("r.conf");
        Files.writeString(f, "advspark { attack { eps = 4 } }\nadvpsark { round.id = x }\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(f.toFile(), List.of()));
        assertTrue(e.getMessage().contains("'advpsark'") && e.getMessage().contains("r.conf"), e.getMessage());
    }

    @Test
    void illTypedAndOutOfRangeValuesNameTheirKey() {
        assertTrue(fails("attack.eps=abc").getMessage().contains("attack.eps"));
        assertTrue(fails("attack.eps=300").getMessage().contains("advspark.attack.eps"));
        assertTrue(fails("attack.steps=0").getMessage().contains("advspark.attack.steps"));
        assertTrue(fails("attack.objective=sideways").getMessage().contains("advspark.attack.objective"));
        assertTrue(fails("batch-size=0").getMessage().contains("advspark.batch-size"));
        assertTrue(fails("dataset.label-base=2").getMessage().contains("advspark.dataset.label-base"));
        assertTrue(fails("round.id=\"../up\"").getMessage().contains("advspark.round.id"));
        assertTrue(fails("attack=5").getMessage().contains("advspark.attack"));
        assertTrue(fails("models=[{path=\"a.pt\", role=oracle}]").getMessage().contains("advspark.models[0].role"));
    }

    @Test
    void credentialsAreRefusedInRoundFiles() {
        ConfigException e = fails("spark.conf.\"spark.hadoop.fs.s3a.secret.key\"=hunter2");
        assertTrue(e.getMessage().contains("credential"), e.getMessage());
        assertTrue(!e.getMessage().contains("hunter2"), "the secret itself is not echoed");
        assertTrue(fails("round.output=\"s3a://AKIA:hunter2@bucket/x\"").getMessage().contains("credentials inside a URI"));
    }

    @Test
    void attackPartSpecsAreCheckedAtLoadAndNamed() {
        RoundConfig ok = ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of("attack.update=\"vmi(n=5, beta=1.5)\"",
                "attack.loss=\"ce(untargeted=1, targeted=4)\"", "attack.init=uniform"));
        assertEquals(Catalogue.parse(Kind.UPDATE, "vmi(n=5, beta=1.5)"), ok.attack().update());
        assertTrue(fails("attack.update=\"mii(decay=1)\"").getMessage().contains("unknown part 'mii'"));
        assertTrue(fails("attack.update=\"mi(decay=1\"").getMessage().contains("'mi(decay=1'"));
        ConfigException e = fails("attack.update=\"vmi(n=5, betta=2)\"");
        assertTrue(e.getMessage().contains("unknown parameter 'betta'") && e.getMessage().contains("vmi(n=5, betta=2)"),
                e.getMessage());
        assertTrue(fails("attack.loss=\"margin(kappa=x)\"").getMessage().contains("'kappa' must be a number"));
        assertTrue(fails("attack.init=\"uniform(radius=3)\"").getMessage().contains("radius"));
        RoundConfig parts = ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of("attack.loss=\"potrip(lambda=0.01, margin=0.007)\"",
                "attack.init=\"perlin(period=20, octaves=2, sine=12, map=sign)\""));
        assertEquals(Catalogue.parse(Kind.INIT, "perlin(period=20, octaves=2, sine=12, map=sign)"), parts.attack().init());
        ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of("attack.init=\"target(alpha=0.5)\""));
        for (String[] bad : new String[][] {
            {"attack.init=\"perlin(octaves=9)\"", "perlin(octaves=9)", "'octaves' must be in 1..8"},
            {"attack.init=\"perlin(map=gray)\"", "perlin(map=gray)", "'map'"},
            {"attack.init=\"target(alpha=-0.1)\"", "target(alpha=-0.1)", "'alpha'"},
            {"attack.init=\"target(guide=first)\"", "target(guide=first)", "unknown parameter 'guide'"},
            {"attack.loss=\"potrip(margin=5)\"", "potrip(margin=5)", "'margin'"},
            {"attack.loss=\"potrip(lamda=0.1)\"", "potrip(lamda=0.1)", "unknown parameter 'lamda'"},
        }) {
            String msg = fails(bad[0]).getMessage();
            assertTrue(msg.contains(bad[1]) && msg.contains(bad[2]), msg);
        }
        assertTrue(fails("attack.ensemble=median").getMessage().contains("advspark.attack.ensemble"));
        assertTrue(fails("attack.copies=0").getMessage().contains("advspark.attack.copies"));
    }

    @Test
    void missingRoundFileIsNamed() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(new java.io.File("conf/nope.conf"), List.of()));
        assertTrue(e.getMessage().contains("conf/nope.conf"));
    }

    @Test
    void shippedRoundsParse() {
        for (String f : List.of("conf/demo.conf", "conf/nips17-mobilenets.conf", "conf/cifar10-resnets.conf",
                "conf/tianchi2019-imagenet.conf")) {
            RoundConfig c = ConfigLoader.load(new java.io.File(f), List.of());
            assertTrue(c.surrogates().size() >= 2, f);
        }
        // The demo rounds' files resolve against conf/, from any working folder, to the repository's demo/.
        for (String f : List.of("conf/demo.conf", "conf/demo-evaluate.conf", "conf/demo-dropout.conf")) {
            RoundConfig c = ConfigLoader.load(new java.io.File(f), List.of());
            assertTrue(Files.isDirectory(Path.of(java.net.URI.create(c.dataset().uri()))), f + ": " + c.dataset().uri());
            for (ModelSpec m : c.models()) {
                assertTrue(Files.isRegularFile(Path.of(java.net.URI.create(m.path()))), f + ": " + m.path());
            }
        }
        // conf/demo.conf spells out the embedded demo.
        RoundConfig file = ConfigLoader.load(new java.io.File("conf/demo.conf"), List.of("round.output=out"));
        RoundConfig embedded = ConfigLoader.load(null, List.of());
        assertEquals(embedded.attacks(), file.attacks());
        assertEquals(embedded.models(), file.models());
        assertEquals(embedded.dataset(), file.dataset());
        assertEquals(embedded.roundUri(), file.roundUri());
    }
}
