package io.advspark.vocabulary;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A parsed spec: the entry it names (kind and canonical name) and every declared parameter's typed
 * value (Double, Integer, String or Boolean), defaults filled in, in declared order. Immutable and
 * serialisable; built objects are made from it without reading text again, and {@link #render}
 * writes it back canonically from the entry's declaration.
 *
 * @param kind the entry's kind
 * @param name the entry's canonical name (an alias is resolved at parse)
 * @param values every declared parameter, typed
 */
public record Spec(Kind kind, String name, Map<String, Object> values) implements Serializable {

    public Spec {
        Objects.requireNonNull(kind);
        Objects.requireNonNull(name);
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** The declaration of this spec's entry. */
    public Entry<?> entry() {
        return Catalogue.entry(kind, name);
    }

    /** The canonical text, e.g. {@code mi(decay=1)} or {@code perlin(period=60.0,...)}. */
    public String render() {
        return entry().render(this);
    }

    private Object value(String key) {
        Object v = values.get(key);
        if (v == null) {
            throw new IllegalArgumentException(kind.label() + " '" + name + "' has no parameter '" + key + "'");
        }
        return v;
    }

    public double dbl(String key) {
        return (Double) value(key);
    }

    public int integer(String key) {
        return (Integer) value(key);
    }

    public String choice(String key) {
        return (String) value(key);
    }

    /** A {@link Param.Type#TEXT} value, as written. */
    public String text(String key) {
        return (String) value(key);
    }

    public boolean bool(String key) {
        return (Boolean) value(key);
    }

    @Override
    public String toString() {
        return render();
    }
}
