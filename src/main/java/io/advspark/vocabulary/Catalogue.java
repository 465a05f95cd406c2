package io.advspark.vocabulary;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Every vocabulary entry a round may name by spec (update rules, losses, inits, input and gradient
 * transforms, filters, model augmentations, ensemble modes, defenses, score presets), found on the
 * classpath: each entry is a {@code public static final Entry<...>} field of the class it builds,
 * under the {@code io.advspark} package. Adding an entry is adding that one class; nothing else
 * registers it.
 *
 * <p>Discovery runs once per JVM (driver or executor) and is cached: the {@code io/advspark}
 * folders and jar entries visible to the thread's context class loader (Spark's executor loader,
 * which holds the application jar) and to the catalogue's own loader are walked, and only class
 * files that mention {@link Entry} are loaded. The reference pages under {@code docs/} are
 * generated from it ({@link CatalogueDocs}).
 */
public final class Catalogue {
    static final String ROOT = "io/advspark";
    private static final byte[] MARKER = Entry.class.getName().replace('.', '/').getBytes(StandardCharsets.UTF_8);
    private static volatile Catalogue instance;

    private final Map<Kind, Map<String, Entry<?>>> byName = new EnumMap<>(Kind.class);
    private final Map<Kind, List<Entry<?>>> byKind = new EnumMap<>(Kind.class);
    private final Map<Class<?>, List<Entry<?>>> byClass = new LinkedHashMap<>();

    private Catalogue(List<Entry<?>> entries) {
        for (Kind k : Kind.values()) {
            byName.put(k, new TreeMap<>());
            byKind.put(k, new ArrayList<>());
        }
        Map<String, Entry<?>> owner = new LinkedHashMap<>();
        for (Entry<?> e : entries) {
            Map<String, Entry<?>> names = byName.get(e.kind());
            List<String> all = new ArrayList<>(e.aliases());
            all.add(0, e.name());
            for (String n : all) {
                Entry<?> prev = names.put(n, e);
                if (prev != null) {
                    throw new IllegalStateException(e.kind().label() + " name '" + n + "' is declared twice: by "
                            + prev.type().getName() + " and " + e.type().getName());
                }
            }
            owner.put(e.kind() + "/" + e.name(), e);
            byKind.get(e.kind()).add(e);
            byClass.computeIfAbsent(e.type(), c -> new ArrayList<>()).add(e);
        }
        for (List<Entry<?>> l : byKind.values()) {
            l.sort(Comparator.comparing(Entry::name));
        }
    }

    /** The catalogue of this JVM, discovered on first use. */
    public static Catalogue get() {
        Catalogue c = instance;
        if (c == null) {
            synchronized (Catalogue.class) {
                c = instance;
                if (c == null) {
                    c = new Catalogue(discover());
                    instance = c;
                }
            }
        }
        return c;
    }

    /** Every entry, by kind then name. */
    public static List<Entry<?>> entries() {
        List<Entry<?>> out = new ArrayList<>();
        for (Kind k : Kind.values()) {
            out.addAll(get().byKind.get(k));
        }
        return out;
    }

    /** The entries of one kind, by name. */
    public static List<Entry<?>> entries(Kind kind) {
        return Collections.unmodifiableList(get().byKind.get(kind));
    }

    /** Canonical names and aliases of one kind, sorted. */
    public static List<String> names(Kind kind) {
        return List.copyOf(get().byName.get(kind).keySet());
    }

    /** The entry {@code name} (or alias) of {@code kind}. */
    public static Entry<?> entry(Kind kind, String name) {
        Entry<?> e = get().byName.get(kind).get(name.toLowerCase(Locale.ROOT));
        if (e == null) {
            throw new SpecException("unknown " + kind.noun() + " '" + name + "' of kind " + kind.label()
                    + " (known: " + String.join(", ", names(kind)) + ")");
        }
        return e;
    }

    /**
     * Parses {@code text} into a typed spec of {@code kind}: the name (or alias) must be declared,
     * every parameter known and in range. Every failure is a {@link SpecException} quoting the text.
     */
    public static Spec parse(Kind kind, String text) {
        String s = text == null ? "" : text.trim();
        if (kind.positional()) {
            s = positional(kind, s);
        }
        PartSpec written;
        try {
            written = PartSpec.parse(s);
        } catch (SpecException e) {
            String m = e.getMessage();
            throw new SpecException(kind.label() + (m.startsWith("'") ? " " : ": ") + m);
        }
        Entry<?> e = get().byName.get(kind).get(written.name());
        if (e == null) {
            throw new SpecException(kind.label() + " '" + (text == null ? "" : text.trim()) + "': unknown " + kind.noun()
                    + " '" + written.name() + "' (known: " + String.join(", ", names(kind)) + ")");
        }
        return e.parse(written, text.trim());
    }

    /** {@code name(v)} -> {@code name(first=v)} for the entry's first parameter. */
    private static String positional(Kind kind, String s) {
        int open = s.indexOf('(');
        if (open < 0 || !s.endsWith(")")) {
            return s;
        }
        String inner = s.substring(open + 1, s.length() - 1).trim();
        if (inner.isEmpty() || inner.contains("=") || inner.contains(",")) {
            return s;
        }
        Entry<?> e = get().byName.get(kind).get(s.substring(0, open).trim().toLowerCase(Locale.ROOT));
        if (e == null || e.params().isEmpty()) {
            return s;
        }
        return s.substring(0, open) + "(" + e.params().get(0).name() + "=" + inner + ")";
    }

    /** Builds the object {@code spec} names, as a {@code type}. */
    public static <T> T build(Spec spec, Class<T> type) {
        Object part = entry(spec.kind(), spec.name()).build(spec);
        return type.cast(part);
    }

    /** Parses {@code text} once and builds its object from the typed spec. */
    public static <T> T create(Kind kind, String text, Class<T> type) {
        return build(parse(kind, text), type);
    }

    /** The entry that describes a built object (e.g. {@code Momentum(1, false, 0, 0)} -> mi). */
    public static Entry<?> entryOf(Object part) {
        Catalogue c = get();
        List<Entry<?>> candidates = c.byClass.getOrDefault(part.getClass(), List.of());
        for (Entry<?> e : candidates) {
            if (e.describes(part)) {
                return e;
            }
        }
        for (List<Entry<?>> l : c.byClass.values()) {
            for (Entry<?> e : l) {
                if (e.describes(part)) {
                    return e;
                }
            }
        }
        throw new IllegalStateException(part.getClass().getName() + " (" + part
                + ") is described by no catalogue entry: declare a public static final Entry field in its class");
    }

    /** The typed spec of a built object, read back through the accessors its entry declares. */
    public static Spec describe(Object part) {
        return entryOf(part).describe(part);
    }

    /** The canonical spec text of a built object, e.g. {@code di(p=0.5,resize=1.1)}. */
    public static String render(Object part) {
        return describe(part).render();
    }

    // ---- discovery ----

    private static List<Entry<?>> discover() {
        Map<String, ClassLoader> classes = new TreeMap<>();
        Set<ClassLoader> loaders = new LinkedHashSet<>();
        ClassLoader ctx = Thread.currentThread().getContextClassLoader();
        if (ctx != null) {
            loaders.add(ctx);
        }
        ClassLoader own = Catalogue.class.getClassLoader();
        loaders.add(own != null ? own : ClassLoader.getSystemClassLoader());
        try {
            for (ClassLoader l : loaders) {
                Enumeration<URL> roots = l.getResources(ROOT);
                while (roots.hasMoreElements()) {
                    walk(roots.nextElement(), l, classes);
                }
            }
            // A jar packed without folder entries has no "io/advspark" resource: walk the
            // catalogue's own jar (the application jar) through one of its classes.
            URL self = Catalogue.class.getResource("Catalogue.class");
            if (self != null && self.getProtocol().equals("jar")) {
                // The jar's root (no entry name): a jar URL naming a missing folder entry fails to open.
                walk(new URL(self.toString().substring(0, self.toString().indexOf("!/") + 2)), loaders.iterator().next(),
                        classes);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the classpath for the catalogue", e);
        }
        List<Entry<?>> out = new ArrayList<>();
        for (Map.Entry<String, ClassLoader> c : classes.entrySet()) {
            Class<?> cls;
            try {
                cls = Class.forName(c.getKey(), false, c.getValue());
            } catch (ClassNotFoundException | LinkageError e) {
                throw new IllegalStateException("catalogue: cannot load " + c.getKey() + ": " + e, e);
            }
            for (Field f : cls.getDeclaredFields()) {
                int m = f.getModifiers();
                if (f.getType() == Entry.class && Modifier.isStatic(m)) {
                    if (!Modifier.isPublic(m) || !Modifier.isFinal(m)) {
                        throw new IllegalStateException("catalogue: " + cls.getName() + "." + f.getName()
                                + " must be public static final");
                    }
                    try {
                        out.add((Entry<?>) f.get(null));
                    } catch (IllegalAccessException e) {
                        throw new IllegalStateException("catalogue: cannot read " + cls.getName() + "." + f.getName(), e);
                    }
                }
            }
        }
        return out;
    }

    /**
     * Adds the classes under {@code io/advspark} of one classpath root ({@code file:} folder or
     * {@code jar:} URL) that mention {@link Entry} to {@code classes}, with the loader to load them by.
     */
    static void walk(URL url, ClassLoader loader, Map<String, ClassLoader> classes) throws IOException {
        switch (url.getProtocol()) {
            case "file" -> {
                Path dir;
                try {
                    dir = Paths.get(url.toURI());
                } catch (URISyntaxException e) {
                    throw new IOException("bad classpath folder " + url, e);
                }
                Path base = dir;
                for (int i = 0; i < ROOT.split("/").length; i++) {
                    base = base.getParent();
                }
                try (Stream<Path> files = Files.walk(dir)) {
                    for (Path p : (Iterable<Path>) files.filter(x -> x.toString().endsWith(".class"))::iterator) {
                        String name = base.relativize(p).toString().replace(p.getFileSystem().getSeparator(), "/");
                        consider(name, Files.readAllBytes(p), loader, classes);
                    }
                }
            }
            case "jar" -> {
                URLConnection conn = url.openConnection();
                conn.setUseCaches(false);
                try (JarFile jar = ((JarURLConnection) conn).getJarFile()) {
                    Enumeration<JarEntry> es = jar.entries();
                    while (es.hasMoreElements()) {
                        JarEntry je = es.nextElement();
                        String name = je.getName();
                        if (name.startsWith(ROOT + "/") && name.endsWith(".class")) {
                            try (InputStream in = jar.getInputStream(je)) {
                                consider(name, in.readAllBytes(), loader, classes);
                            }
                        }
                    }
                }
            }
            default -> throw new IOException("catalogue: cannot list classpath entry " + url);
        }
    }

    private static void consider(String path, byte[] bytes, ClassLoader loader, Map<String, ClassLoader> classes) {
        String name = path.substring(0, path.length() - ".class".length()).replace('/', '.');
        if (!classes.containsKey(name) && !name.endsWith("module-info") && contains(bytes, MARKER)) {
            classes.put(name, loader);
        }
    }

    private static boolean contains(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
