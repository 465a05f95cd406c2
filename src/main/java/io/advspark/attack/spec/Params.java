package io.advspark.attack.spec;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/** Reads a part's parameters with defaults and ranges; every message quotes the spec. */
public final class Params {
    private final PartSpec spec;
    private final String kind;
    private final Set<String> used = new HashSet<>();

    Params(PartSpec spec, String kind) {
        this.spec = spec;
        this.kind = kind;
    }

    private String raw(String key) {
        used.add(key);
        return spec.params().get(key);
    }

    private SpecException bad(String msg) {
        return new SpecException(kind + " '" + spec.text() + "': " + msg);
    }

    public double dbl(String key, double dflt, double min, double max) {
        String v = raw(key);
        if (v == null) {
            return dflt;
        }
        double d;
        try {
            d = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw bad("parameter '" + key + "' must be a number, got '" + v + "'");
        }
        if (!(d >= min && d <= max)) {
            throw bad("parameter '" + key + "' must be in [" + min + ", " + max + "], got " + v);
        }
        return d;
    }

    public int integer(String key, int dflt, int min, int max) {
        String v = raw(key);
        if (v == null) {
            return dflt;
        }
        int i;
        try {
            i = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw bad("parameter '" + key + "' must be an integer, got '" + v + "'");
        }
        if (i < min || i > max) {
            throw bad("parameter '" + key + "' must be in " + min + ".." + max + ", got " + v);
        }
        return i;
    }

    public String choice(String key, String dflt, String... allowed) {
        String v = raw(key);
        if (v == null) {
            return dflt;
        }
        String l = v.toLowerCase(Locale.ROOT);
        for (String a : allowed) {
            if (a.equals(l)) {
                return a;
            }
        }
        throw bad("parameter '" + key + "' must be one of " + String.join(", ", allowed) + ", got '" + v + "'");
    }

    /** Fails on parameters that no one read: typos must not pass silently. */
    public void done() {
        for (String k : spec.params().keySet()) {
            if (!used.contains(k)) {
                throw bad("unknown parameter '" + k + "'" + (used.isEmpty() ? " (it takes none)" : " (known: " + String.join(", ", used) + ")"));
            }
        }
    }
}
