package io.advspark.vocabulary;

import java.util.regex.Pattern;

/**
 * Round ids and attack names become folder names ({@code <output>/<round>/images/<attack>/}), so
 * they are plain names: a letter or digit first (never {@code .} or {@code ..}, nothing hidden),
 * then letters, digits, {@code .}, {@code _} and {@code -}, at most {@link #MAX_LENGTH} characters.
 */
public final class Names {
    /** Room for an attack name with several grid suffixes, well under file systems' 255. */
    public static final int MAX_LENGTH = 128;
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

    private Names() {}

    /** Null when {@code name} is a plain name, else why it is not. */
    public static String problem(String name) {
        if (name == null || name.isEmpty()) {
            return "is empty";
        }
        if (name.length() > MAX_LENGTH) {
            return "is longer than " + MAX_LENGTH + " characters";
        }
        if (!PLAIN.matcher(name).matches()) {
            return "must start with a letter or digit and contain only letters, digits, '.', '_' and '-'";
        }
        return null;
    }
}
