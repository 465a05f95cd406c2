package io.advspark.vocabulary;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The declaration of one vocabulary entry: its kind, name and aliases, parameters, paper, one-line
 * summary, whether it draws random numbers, how to build it from a typed {@link Spec}, and which
 * built objects it describes. Declared once, next to the class it builds, as a
 * {@code public static final Entry<...>} field; {@link Catalogue} finds it there on the classpath.
 * A class that implements several entries (momentum's mi, ni, vmi, vni) declares one field each
 * and tells them apart with {@link Builder#describes}.
 *
 * @param <T> the class it builds
 */
public final class Entry<T> {
    /** The paper value of an entry that follows no publication. */
    public static final String NO_PAPER = "none";

    private final Kind kind;
    private final String name;
    private final List<String> aliases;
    private final List<Param> params;
    private final String paper;
    private final String summary;
    private final boolean randomised;
    private final Class<T> type;
    private final Predicate<? super T> describes;
    private final List<Check> checks;
    private final Function<Spec, ? extends T> factory;
    private volatile Method[] accessors;

    /** A constraint between or beyond the declared ranges, e.g. an odd window size. */
    private record Check(Predicate<Spec> ok, Function<Spec, String> message) {}

    private Entry(Builder<T> b, Function<Spec, ? extends T> factory) {
        this.kind = b.kind;
        this.name = b.name;
        this.aliases = List.copyOf(b.aliases);
        this.params = List.copyOf(b.params);
        this.paper = Objects.requireNonNull(b.paper, () -> kind + " " + b.name + ": declare a paper or Entry.NO_PAPER");
        this.summary = Objects.requireNonNull(b.summary, () -> kind + " " + b.name + ": declare a summary");
        this.randomised = b.randomised;
        this.type = b.type;
        this.describes = b.describes;
        this.checks = List.copyOf(b.checks);
        this.factory = Objects.requireNonNull(factory);
    }

    /** Starts the declaration of entry {@code name} of {@code kind}, built as a {@code type}. */
    public static <T> Builder<T> of(Kind kind, String name, Class<T> type) {
        return new Builder<>(kind, name, type);
    }

    public Kind kind() {
        return kind;
    }

    /** The canonical name, lower case; the one the canonical spec writes. */
    public String name() {
        return name;
    }

    /** Other names that parse to this entry (rendered with the canonical name). */
    public List<String> aliases() {
        return aliases;
    }

    public List<Param> params() {
        return params;
    }

    /** The paper it follows, or {@link #NO_PAPER}. */
    public String paper() {
        return paper;
    }

    public String summary() {
        return summary;
    }

    /** Whether the built object draws random numbers (a randomised defense needs a seeded stream). */
    public boolean randomised() {
        return randomised;
    }

    /** The class the entry builds. */
    public Class<T> type() {
        return type;
    }

    public Param param(String key) {
        for (Param p : params) {
            if (p.name().equals(key)) {
                return p;
            }
        }
        return null;
    }

    /** The spec with every parameter at its default; fails for an entry with a required parameter ({@link #example()}). */
    public Spec defaults() {
        return spec(Map.of());
    }

    /** Whether a spec must give some parameter (one without a default, e.g. a file's location). */
    public boolean hasRequired() {
        return params.stream().anyMatch(Param::required);
    }

    /** The defaults, with each required parameter at its declared example (reference pages, catalogue tests). */
    public Spec example() {
        Map<String, Object> values = new LinkedHashMap<>();
        for (Param p : params) {
            if (p.required()) {
                values.put(p.name(), p.example());
            }
        }
        return spec(values);
    }

    /**
     * A spec of this entry from typed values; missing parameters take their defaults. For programs
     * that build specs without text; the values are checked as parsed text would be.
     */
    public Spec spec(Map<String, ?> values) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Param p : params) {
            if (!values.containsKey(p.name()) && p.required()) {
                throw new SpecException(kind.label() + " '" + name + "': parameter '" + p.name() + "' is required");
            }
            Object v = values.containsKey(p.name()) ? p.check(values.get(p.name())) : p.defaultValue();
            out.put(p.name(), v);
        }
        for (String k : values.keySet()) {
            if (param(k) == null) {
                throw new SpecException(kind.label() + " '" + name + "': unknown parameter '" + k + "'" + known());
            }
        }
        return new Spec(kind, name, out);
    }

    /** Builds the object a spec of this entry describes. */
    public T build(Spec spec) {
        if (spec.kind() != kind || !spec.name().equals(name)) {
            throw new IllegalArgumentException("spec " + spec + " is not a " + kind.label() + " '" + name + "'");
        }
        return factory.apply(spec);
    }

    /** The canonical text of {@code spec}: {@code name} or {@code name(k=v,k=v)} in declared order. */
    public String render(Spec spec) {
        String args = renderParams(spec);
        return args == null ? name : name + "(" + args + ")";
    }

    /**
     * The parameters of the canonical text of {@code spec}, {@code k=v,k=v} in declared order (what
     * {@link #render} puts between the parentheses); null when it has none.
     */
    public String renderParams(Spec spec) {
        StringBuilder b = new StringBuilder();
        for (Param p : params) {
            Object v = spec.values().get(p.name());
            if (p.omitDefault() && Objects.equals(v, p.defaultValue())) {
                continue;
            }
            b.append(b.isEmpty() ? "" : ",").append(p.name()).append('=').append(p.render(v));
        }
        return b.isEmpty() ? null : b.toString();
    }

    /** Whether this entry is the one that describes {@code part} (of its class). */
    boolean describes(Object part) {
        return type.isInstance(part) && (describes == null || describes.test(type.cast(part)));
    }

    /** The spec of a built part, read back through its accessors. */
    Spec describe(Object part) {
        Method[] m = accessors;
        if (m == null) {
            m = new Method[params.size()];
            for (int i = 0; i < m.length; i++) {
                String src = params.get(i).source();
                try {
                    m[i] = part.getClass().getMethod(src);
                } catch (NoSuchMethodException e) {
                    throw new IllegalStateException(part.getClass().getName() + " has no public accessor " + src
                            + "() for parameter '" + params.get(i).name() + "' of " + kind.label() + " '" + name + "'", e);
                }
            }
            accessors = m;
        }
        Map<String, Object> values = new LinkedHashMap<>();
        for (int i = 0; i < m.length; i++) {
            Param p = params.get(i);
            try {
                values.put(p.name(), p.check(m[i].invoke(part)));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot read " + p.name() + " of " + part.getClass().getName(), e);
            }
        }
        return new Spec(kind, name, values);
    }

    /** Parses the parameters of an already split spec; messages quote {@code text}. */
    Spec parse(PartSpec written, String text) {
        Map<String, Object> values = new LinkedHashMap<>();
        for (Param p : params) {
            String raw = written.params().get(p.name());
            if (raw == null && p.required()) {
                throw new SpecException(kind.label() + " '" + text + "': parameter '" + p.name() + "' is required");
            } else if (raw == null) {
                values.put(p.name(), p.defaultValue());
            } else {
                try {
                    values.put(p.name(), p.parse(raw));
                } catch (IllegalArgumentException e) {
                    throw new SpecException(kind.label() + " '" + text + "': " + e.getMessage());
                }
            }
        }
        for (String k : written.params().keySet()) {
            if (param(k) == null) {
                throw new SpecException(kind.label() + " '" + text + "': unknown parameter '" + k + "'" + known());
            }
        }
        Spec spec = new Spec(kind, name, values);
        for (Check c : checks) {
            if (!c.ok().test(spec)) {
                throw new SpecException(kind.label() + " '" + text + "': " + c.message().apply(spec));
            }
        }
        return spec;
    }

    private String known() {
        return params.isEmpty() ? " (it takes none)"
                : " (known: " + String.join(", ", params.stream().map(Param::name).toList()) + ")";
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(Locale.ROOT) + " " + name + params;
    }

    /** Collects a declaration; {@link #build} ends it with the factory. */
    public static final class Builder<T> {
        private final Kind kind;
        private final String name;
        private final Class<T> type;
        private final List<String> aliases = new ArrayList<>();
        private final List<Param> params = new ArrayList<>();
        private final List<Check> checks = new ArrayList<>();
        private String paper;
        private String summary;
        private boolean randomised;
        private Predicate<? super T> describes;

        private Builder(Kind kind, String name, Class<T> type) {
            this.kind = Objects.requireNonNull(kind);
            this.name = checkName(name);
            this.type = Objects.requireNonNull(type);
        }

        private static String checkName(String n) {
            if (!n.matches("[a-z][a-z0-9_+-]*")) {
                throw new IllegalArgumentException("entry name '" + n + "' must be lower case, a letter first");
            }
            return n;
        }

        public Builder<T> alias(String... names) {
            for (String a : names) {
                aliases.add(checkName(a));
            }
            return this;
        }

        public Builder<T> param(Param p) {
            for (Param q : params) {
                if (q.name().equals(p.name())) {
                    throw new IllegalArgumentException(name + ": parameter '" + p.name() + "' declared twice");
                }
            }
            params.add(p);
            return this;
        }

        /** The publication the entry follows (authors, venue, year), or {@link Entry#NO_PAPER}. */
        public Builder<T> paper(String citation) {
            this.paper = citation;
            return this;
        }

        /** One line: what the entry does, for the reference pages. */
        public Builder<T> summary(String line) {
            this.summary = line;
            return this;
        }

        /** Marks an entry whose built object draws random numbers. */
        public Builder<T> randomised() {
            this.randomised = true;
            return this;
        }

        /** Which objects of the class this entry describes, when the class implements several entries. */
        public Builder<T> describes(Predicate<? super T> which) {
            this.describes = which;
            return this;
        }

        /** A constraint beyond the ranges; {@code message} explains a spec that breaks it. */
        public Builder<T> check(Predicate<Spec> ok, Function<Spec, String> message) {
            checks.add(new Check(ok, message));
            return this;
        }

        /** Ends the declaration: {@code factory} builds the object from a typed spec, never from text. */
        public Entry<T> build(Function<Spec, ? extends T> factory) {
            return new Entry<>(this, factory);
        }
    }
}
