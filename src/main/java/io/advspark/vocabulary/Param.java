package io.advspark.vocabulary;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One declared parameter of a vocabulary entry: name, type, default, range or choices, a one-line
 * meaning, and how the canonical spec renders its value. Immutable; the factories and withers
 * return new instances.
 */
public final class Param {
    /** The value types a spec may carry; parsed values are Double, Integer, String and Boolean. */
    public enum Type {
        DOUBLE,
        INT,
        CHOICE,
        BOOL,
        /** Free text kept as written (case too), e.g. a file location; see {@link Param#text}. */
        TEXT
    }

    /**
     * How a value is written in the canonical spec. These styles exist to keep the spec strings
     * byte-equal to the ones earlier rounds wrote (seeds are derived from them).
     */
    public enum Style {
        /** Java's own text: {@code Double.toString} ({@code 1.0}, {@code 1.0E-4}), decimal ints, choices as declared. */
        PLAIN,
        /** Integral doubles without a fraction ({@code 1}, {@code -1}), others as {@code Double.toString}. */
        INTEGRAL,
        /** Four decimals, {@code %.4f} ({@code 1.1070}). Lossy: the spec rounds the value. */
        FIXED4
    }

    private final String name;
    private final Type type;
    private final Object dflt;
    private final double min;
    private final double max;
    private final List<String> choices;
    private final String meaning;
    private final Style style;
    private final boolean omitDefault;
    private final String source;
    /** For a required parameter (no default): a value the reference pages and catalogue tests use. */
    private final String example;

    private Param(String name, Type type, Object dflt, double min, double max, List<String> choices, String meaning,
            Style style, boolean omitDefault, String source) {
        this(name, type, dflt, min, max, choices, meaning, style, omitDefault, source, null);
    }

    private Param(String name, Type type, Object dflt, double min, double max, List<String> choices, String meaning,
            Style style, boolean omitDefault, String source, String example) {
        // Hyphens as in the spelling of checkpoints(per-step=k); specs lower-case keys anyway.
        if (!name.matches("[a-z][a-z0-9_]*(-[a-z0-9_]+)*")) {
            throw new IllegalArgumentException("parameter name '" + name + "' must be lower case");
        }
        this.name = name;
        this.type = type;
        this.dflt = dflt;
        this.min = min;
        this.max = max;
        this.choices = List.copyOf(choices);
        this.meaning = Objects.requireNonNull(meaning, "meaning");
        this.style = style;
        this.omitDefault = omitDefault;
        this.source = source;
        this.example = example;
    }

    /** A real number in {@code [min, max]}. */
    public static Param dbl(String name, double dflt, double min, double max, String meaning) {
        return new Param(name, Type.DOUBLE, dflt, min, max, List.of(), meaning, Style.PLAIN, false, name);
    }

    /** An integer in {@code min..max}. */
    public static Param integer(String name, int dflt, int min, int max, String meaning) {
        return new Param(name, Type.INT, dflt, min, max, List.of(), meaning, Style.PLAIN, false, name);
    }

    /** One of {@code choices} (lower case; matched case-insensitively). */
    public static Param choice(String name, String dflt, String meaning, String... choices) {
        if (!List.of(choices).contains(dflt)) {
            throw new IllegalArgumentException("default '" + dflt + "' of '" + name + "' is not a choice");
        }
        return new Param(name, Type.CHOICE, dflt, 0, 0, List.of(choices), meaning, Style.PLAIN, false, name);
    }

    /** {@code true} or {@code false}. */
    public static Param bool(String name, boolean dflt, String meaning) {
        return new Param(name, Type.BOOL, dflt, 0, 0, List.of("true", "false"), meaning, Style.PLAIN, false, name);
    }

    /**
     * A required text parameter: no default, so a spec must give it ({@code purify(path=...)}).
     * The value is kept as written; it may not contain the characters the spec and chain grammars
     * split on ({@code > , ( ) [ ]}). {@code example} stands in for it on the reference pages.
     */
    public static Param text(String name, String example, String meaning) {
        Param p = new Param(name, Type.TEXT, null, 0, 0, List.of(), meaning, Style.PLAIN, false, name, example);
        p.check(example);
        return p;
    }

    /** The same parameter rendered in {@code style}. */
    public Param style(Style s) {
        return new Param(name, type, dflt, min, max, choices, meaning, s, omitDefault, source, example);
    }

    /** The same parameter, left out of the canonical spec while it has its default value. */
    public Param omittedAtDefault() {
        return new Param(name, type, dflt, min, max, choices, meaning, style, true, source, example);
    }

    /**
     * The same parameter, read back from a built part through its accessor {@code accessor()}
     * instead of {@code name()} (when the class names the value differently).
     */
    public Param from(String accessor) {
        return new Param(name, type, dflt, min, max, choices, meaning, style, omitDefault, accessor, example);
    }

    public String name() {
        return name;
    }

    public Type type() {
        return type;
    }

    /** The default, typed as parsed values are (Double, Integer, String or Boolean); null if {@link #required()}. */
    public Object defaultValue() {
        return dflt;
    }

    /** Whether a spec must give this parameter (it has no default). */
    public boolean required() {
        return dflt == null;
    }

    /** A valid value: the default, or for a required parameter its declared example. */
    public Object example() {
        return dflt != null ? dflt : example;
    }

    public double min() {
        return min;
    }

    public double max() {
        return max;
    }

    public List<String> choices() {
        return choices;
    }

    public String meaning() {
        return meaning;
    }

    public Style style() {
        return style;
    }

    public boolean omitDefault() {
        return omitDefault;
    }

    /** The accessor a built part answers this parameter's value with. */
    public String source() {
        return source;
    }

    /**
     * Parses and checks one written value; the message of a failure (without the spec, which the
     * caller prefixes) names the parameter and the value.
     */
    Object parse(String v) {
        switch (type) {
            case TEXT -> {
                return text(v);
            }
            case DOUBLE -> {
                double d;
                try {
                    d = Double.parseDouble(v);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("parameter '" + name + "' must be a number, got '" + v + "'");
                }
                if (!(d >= min && d <= max)) {
                    throw new IllegalArgumentException("parameter '" + name + "' must be in [" + min + ", " + max + "], got " + v);
                }
                return d;
            }
            case INT -> {
                int i;
                try {
                    i = Integer.parseInt(v);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("parameter '" + name + "' must be an integer, got '" + v + "'");
                }
                if (i < min || i > max) {
                    throw new IllegalArgumentException(
                            "parameter '" + name + "' must be in " + (int) min + ".." + (int) max + ", got " + v);
                }
                return i;
            }
            default -> {
                String l = v.toLowerCase(Locale.ROOT);
                if (!choices.contains(l)) {
                    throw new IllegalArgumentException(
                            "parameter '" + name + "' must be one of " + String.join(", ", choices) + ", got '" + v + "'");
                }
                return type == Type.BOOL ? Boolean.valueOf(l) : l;
            }
        }
    }

    /** Checks a typed value (from a built part or a program) the way {@link #parse} checks text. */
    Object check(Object value) {
        Object v = switch (type) {
            case DOUBLE -> value instanceof Number n ? n.doubleValue() : null;
            case INT -> value instanceof Integer || value instanceof Short || value instanceof Byte
                    ? ((Number) value).intValue() : null;
            case BOOL -> value instanceof Boolean ? value : null;
            case CHOICE -> value instanceof String s ? s : null;
            case TEXT -> value instanceof String s ? text(s) : null;
        };
        if (v == null) {
            throw new IllegalArgumentException("parameter '" + name + "' must be " + type.name().toLowerCase(Locale.ROOT)
                    + ", got " + (value == null ? "null" : value.getClass().getSimpleName() + " " + value));
        }
        return v;
    }

    /** A text value as written, refused if empty or if the spec grammar would split it. */
    private String text(String v) {
        if (v.isBlank()) {
            throw new IllegalArgumentException("parameter '" + name + "' must not be empty");
        }
        for (char c : new char[] {'>', ',', '(', ')', '[', ']'}) {
            if (v.indexOf(c) >= 0) {
                throw new IllegalArgumentException("parameter '" + name + "' must not contain '" + c + "', got '" + v + "'");
            }
        }
        return v.strip();
    }

    /** The value as the canonical spec writes it. */
    public String render(Object value) {
        if (type == Type.DOUBLE) {
            double d = (Double) value;
            return switch (style) {
                case PLAIN -> Double.toString(d);
                case INTEGRAL -> d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
                case FIXED4 -> String.format(Locale.ROOT, "%.4f", d);
            };
        }
        return String.valueOf(value);
    }

    /** The accepted values as the reference pages write them. */
    public String domain() {
        return switch (type) {
            case DOUBLE -> "[" + num(min) + ", " + num(max) + "]";
            case INT -> (int) min + ".." + (int) max;
            case CHOICE, BOOL -> String.join(" | ", choices);
            case TEXT -> "text, required";
        };
    }

    private static String num(double d) {
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    @Override
    public String toString() {
        return name + ":" + type.name().toLowerCase(Locale.ROOT);
    }
}
