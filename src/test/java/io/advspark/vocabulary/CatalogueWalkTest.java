package io.advspark.vocabulary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.attack.input.ExampleNoOpInput;
import io.advspark.attack.update.Momentum;
import io.advspark.defense.ResizePad;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Walks every catalogue entry: parse, render, round trip, rejection, documentation. */
class CatalogueWalkTest {

    /**
     * Every entry's default form parses, renders, parses back to itself and builds an object that
     * renders the same; an entry with a required parameter is refused without it (naming it) and
     * round-trips at its declared example.
     */
    @Test
    void defaultsRoundTrip() {
        List<String> wrong = new ArrayList<>();
        for (Entry<?> e : Catalogue.entries()) {
            if (e.hasRequired()) {
                Param req = e.params().stream().filter(Param::required).findFirst().orElseThrow();
                expectFailure(e, e.name(), "parameter '" + req.name() + "' is required", wrong);
                roundTrip(e, e.example(), wrong);
                continue;
            }
            Spec s = Catalogue.parse(e.kind(), e.name());
            if (!s.equals(e.defaults())) {
                wrong.add(e + ": parse(name) " + s.values() + " != defaults " + e.defaults().values());
            }
            roundTrip(e, s, wrong);
        }
        assertEquals(List.of(), wrong);
    }

    /** A non-default value of every parameter (every choice) renders, parses back and survives a build. */
    @Test
    void nonDefaultValuesRoundTrip() {
        List<String> wrong = new ArrayList<>();
        for (Entry<?> e : Catalogue.entries()) {
            for (Param p : e.params()) {
                for (Object v : otherValues(p)) {
                    Map<String, Object> values = new HashMap<>(e.example().values());
                    values.put(p.name(), v);
                    Spec s = e.spec(values);
                    roundTrip(e, s, wrong);
                }
            }
        }
        assertEquals(List.of(), wrong);
    }

    private static void roundTrip(Entry<?> e, Spec s, List<String> wrong) {
        String text = s.render();
        Spec back = Catalogue.parse(e.kind(), text);
        boolean lossy = e.params().stream().anyMatch(p -> p.style() == Param.Style.FIXED4);
        if (lossy ? !back.render().equals(text) : !back.equals(s)) {
            wrong.add(e + ": parse(render(" + s.values() + ")) = " + back.values() + " via " + text);
        }
        Object built = Catalogue.build(s, Object.class);
        Spec described = Catalogue.describe(built);
        if (!described.equals(s)) {
            wrong.add(e + ": built " + built + " describes itself as " + described.values() + ", not " + s.values());
        }
        if (Catalogue.entryOf(built) != e) {
            wrong.add(e + ": built " + built + " is described by " + Catalogue.entryOf(built));
        }
    }

    private static List<Object> otherValues(Param p) {
        List<Object> out = new ArrayList<>();
        switch (p.type()) {
            case DOUBLE -> {
                double lo = p.min();
                double hi = Double.isInfinite(p.max()) ? lo + 3 : p.max();
                out.add(lo + (hi - lo) / 2);
                out.add(lo);
            }
            case INT -> {
                int d = (Integer) p.defaultValue();
                out.add(d == (int) p.min() ? (int) p.max() : (int) p.min());
            }
            case CHOICE -> p.choices().stream().filter(c -> !c.equals(p.defaultValue())).forEach(out::add);
            case BOOL -> out.add(!(Boolean) p.defaultValue());
            case TEXT -> out.add("file:/tmp/other " + p.example() + ".x");
        }
        return out;
    }

    /** An unknown parameter and an invalid value of each parameter fail with the spec quoted. */
    @Test
    void rejectsUnknownAndInvalidWithTheSpecQuoted() {
        List<String> wrong = new ArrayList<>();
        for (Entry<?> e : Catalogue.entries()) {
            String unknown = e.name() + "(zzz=1" + required(e) + ")";
            expectFailure(e, unknown, "unknown parameter 'zzz'", wrong);
            for (Param p : e.params()) {
                String bad = e.name() + "(" + p.name() + "=" + invalid(p) + (p.required() ? "" : required(e)) + ")";
                expectFailure(e, bad, "'" + p.name() + "'", wrong);
            }
        }
        assertEquals(List.of(), wrong);
        SpecException unknownName = assertThrows(SpecException.class, () -> Catalogue.parse(Kind.UPDATE, "mii(decay=1)"));
        assertTrue(unknownName.getMessage().contains("unknown part 'mii'") && unknownName.getMessage().contains("'mii(decay=1)'")
                && unknownName.getMessage().contains("vmi"), unknownName.getMessage());
    }

    /** {@code ,k=v} for each required parameter at its example, so a spec fails for the reason under test. */
    private static String required(Entry<?> e) {
        StringBuilder b = new StringBuilder();
        for (Param p : e.params()) {
            if (p.required()) {
                b.append(',').append(p.name()).append('=').append(p.render(p.example()));
            }
        }
        return b.toString();
    }

    private static void expectFailure(Entry<?> e, String text, String mention, List<String> wrong) {
        try {
            Catalogue.parse(e.kind(), text);
            wrong.add(e + ": '" + text + "' was accepted");
        } catch (SpecException x) {
            if (!x.getMessage().contains("'" + text + "'") || !x.getMessage().contains(mention)) {
                wrong.add(e + ": '" + text + "' -> " + x.getMessage());
            }
        }
    }

    private static String invalid(Param p) {
        return switch (p.type()) {
            case DOUBLE -> Double.toString(Double.isInfinite(p.max()) ? p.min() - 1 : p.max() + 1);
            case INT -> Integer.toString((int) p.max() + 1);
            case CHOICE, BOOL -> "zzz";
            case TEXT -> "a>b";
        };
    }

    /** Every entry is documented: a summary, a paper or an explicit none, a meaning for each parameter. */
    @Test
    void everyEntryIsDocumented() {
        List<String> wrong = new ArrayList<>();
        for (Entry<?> e : Catalogue.entries()) {
            if (e.summary().isBlank() || e.paper().isBlank()) {
                wrong.add(e + ": summary or paper missing (Entry.NO_PAPER for none)");
            }
            for (Param p : e.params()) {
                if (p.meaning().isBlank()) {
                    wrong.add(e + ": parameter " + p.name() + " has no meaning");
                }
            }
        }
        assertEquals(List.of(), wrong);
    }

    /**
     * Discovery finds the whole vocabulary main declares (a lost class would silently shrink it)
     * and the test-only examples, each declared in its own class and named nowhere else. A new
     * part needs no edit here: the lists are what must at least be found.
     */
    @Test
    void discoveryFindsEveryKind() {
        Map<Kind, List<String>> expected = new TreeMap<>(Map.ofEntries(
                Map.entry(Kind.UPDATE, List.of("bim", "emi", "fgsm", "gra", "ifgsm", "mef", "mi", "ni", "pgd", "pgn",
                        "vmi", "vni")),
                Map.entry(Kind.LOSS, List.of("ce", "cw", "logit", "margin", "potrip")),
                Map.entry(Kind.INIT, List.of("gaussian", "perlin", "target", "uniform", "zeros")),
                Map.entry(Kind.INPUT, List.of("admix", "brightness", "bsr", "decowa", "di", "example-noop", "flip", "jpeg",
                        "noise", "ops", "rotate", "si", "sia", "ssa", "translate")),
                Map.entry(Kind.GRADIENT, List.of("l1", "ti")),
                Map.entry(Kind.FILTER, List.of("dct", "gaussian")),
                Map.entry(Kind.AUGMENT, List.of("dropout")),
                Map.entry(Kind.ENSEMBLE, List.of("adaea", "cwa", "logits", "losses", "probs", "svre")),
                Map.entry(Kind.DEFENSE, List.of("bits", "blur", "example-invert", "jpeg", "median", "purify", "rp", "rs")),
                Map.entry(Kind.SCORE, List.of("asr", "nips2017", "tianchi2019"))));
        assertEquals(java.util.EnumSet.allOf(Kind.class), expected.keySet(), "every kind is checked");
        for (Map.Entry<Kind, List<String>> e : expected.entrySet()) {
            List<String> found = Catalogue.names(e.getKey());
            assertTrue(found.containsAll(e.getValue()), e.getKey() + ": found " + found + ", expected at least " + e.getValue());
        }
        // Randomised comes from the declarations (DefenseChain.randomised() reads it).
        assertTrue(Catalogue.entryOf(new ResizePad(1.2)).randomised());
        assertFalse(Catalogue.entry(Kind.DEFENSE, "jpeg").randomised());
        assertEquals("vmi", Catalogue.entryOf(new Momentum(1, false, 3, 1)).name());
    }

    /** The test-only part is found with no registration anywhere: adding a part is adding one class. */
    @Test
    void exampleTestPartIsDiscovered() {
        Spec s = Catalogue.parse(Kind.INPUT, "Example-NoOp(times=2)");
        assertEquals("example-noop(times=2)", s.render());
        assertEquals(new ExampleNoOpInput(2), Catalogue.build(s, ExampleNoOpInput.class));
        assertEquals("example-noop(times=1)", new ExampleNoOpInput(1).spec());
    }

    /** Specs are values: serialisable, equal by content, immutable. */
    @Test
    void specIsAnImmutableSerialisableValue() throws Exception {
        Spec s = Catalogue.parse(Kind.LOSS, "cw(kappa=5)");
        assertEquals("margin", s.name());
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream o = new java.io.ObjectOutputStream(bytes)) {
            o.writeObject(s);
        }
        Object back;
        try (java.io.ObjectInputStream i = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            back = i.readObject();
        }
        assertEquals(s, back);
        assertEquals("margin(targeted=false,kappa=5.0)", ((Spec) back).render());
        assertThrows(UnsupportedOperationException.class, () -> s.values().put("kappa", 1.0));
        Map<String, Object> typed = new HashMap<>();
        typed.put("kappa", "5");
        assertThrows(IllegalArgumentException.class, () -> Catalogue.entry(Kind.LOSS, "margin").spec(typed));
    }

    /** The jar walk (an executor's application jar), also for a jar packed without folder entries. */
    @Test
    void walksAJarWithoutFolderEntries(@TempDir Path dir) throws Exception {
        Path classes = Path.of("target/classes");
        Path jar = dir.resolve("app.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
                Stream<Path> files = Files.walk(classes.resolve(Catalogue.ROOT))) {
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                out.putNextEntry(new JarEntry(classes.relativize(p).toString().replace('\\', '/')));
                Files.copy(p, out);
                out.closeEntry();
            }
        }
        Map<String, ClassLoader> found = new TreeMap<>();
        Catalogue.walk(new URL("jar:" + jar.toUri() + "!/"), getClass().getClassLoader(), found);
        assertTrue(found.containsKey("io.advspark.attack.update.Momentum"), found.keySet().toString());
        assertTrue(found.containsKey("io.advspark.score.Scoring$Tianchi2019"), found.keySet().toString());
        assertFalse(found.containsKey("io.advspark.job.AttackJob"), "only classes that mention Entry are loaded");
        Map<String, ClassLoader> fromFolder = new TreeMap<>();
        Catalogue.walk(classes.resolve(Catalogue.ROOT).toUri().toURL(), getClass().getClassLoader(), fromFolder);
        assertEquals(fromFolder.keySet(), found.keySet());
    }
}
