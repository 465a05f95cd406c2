package io.advspark.vocabulary;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The spec grammar: one vocabulary entry as written in a round configuration, a name and optional
 * parameters (values still text; {@link Catalogue#parse} turns it into a typed {@link Spec}),
 * {@code name} or {@code name(key=value, key=value)}, e.g. {@code mi(decay=1.0)},
 * {@code ti(kernel=gaussian, size=15, sigma=3)}. Names and keys are case-insensitive.
 *
 * @param name the part's name, lower case
 * @param params parameters in the order written (values as text)
 * @param text the spec as written, for messages
 */
public record PartSpec(String name, Map<String, String> params, String text) {

    public PartSpec {
        params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    /** Parses one spec; the message of a failure quotes it. */
    public static PartSpec parse(String text) {
        String s = text == null ? "" : text.trim();
        if (s.isEmpty()) {
            throw new SpecException("empty attack part spec");
        }
        int open = s.indexOf('(');
        String name;
        Map<String, String> params = new LinkedHashMap<>();
        if (open < 0) {
            name = s;
        } else {
            if (!s.endsWith(")")) {
                throw new SpecException("'" + text + "': missing ')'");
            }
            name = s.substring(0, open).trim();
            String inner = s.substring(open + 1, s.length() - 1).trim();
            if (!inner.isEmpty()) {
                for (String kv : splitTopLevel(inner, text)) {
                    int eq = kv.indexOf('=');
                    if (eq <= 0) {
                        throw new SpecException("'" + text + "': parameter '" + kv.trim() + "' is not key=value");
                    }
                    String k = kv.substring(0, eq).trim().toLowerCase(Locale.ROOT);
                    String v = kv.substring(eq + 1).trim();
                    if (v.isEmpty()) {
                        throw new SpecException("'" + text + "': parameter '" + k + "' has no value");
                    }
                    if (params.put(k, v) != null) {
                        throw new SpecException("'" + text + "': parameter '" + k + "' given twice");
                    }
                }
            }
        }
        if (!name.matches("[A-Za-z][A-Za-z0-9_+-]*")) {
            throw new SpecException("'" + text + "': '" + name + "' is not a part name");
        }
        return new PartSpec(name.toLowerCase(Locale.ROOT), params, s);
    }

    private static List<String> splitTopLevel(String inner, String text) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < inner.length(); i++) {
            char c = inner.charAt(i);
            if (c == '(' || c == '[') {
                depth++;
            } else if (c == ')' || c == ']') {
                depth--;
                if (depth < 0) {
                    throw new SpecException("'" + text + "': unbalanced brackets");
                }
            } else if (c == ',' && depth == 0) {
                out.add(inner.substring(start, i));
                start = i + 1;
            }
        }
        if (depth != 0) {
            throw new SpecException("'" + text + "': unbalanced brackets");
        }
        out.add(inner.substring(start));
        return out;
    }

    @Override
    public String toString() {
        return text;
    }
}
