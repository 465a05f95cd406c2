package io.advspark.defense;

import io.advspark.vocabulary.Catalogue;
import io.advspark.vocabulary.Kind;

/**
 * Parses one stage of a defense chain ({@code jpeg(75)}, {@code bits(bits=4)}, {@code rp},
 * {@code median(3)}, {@code blur(sigma=1)}) through the {@link Catalogue}: the defenses are the
 * entries of kind {@link Kind#DEFENSE}, each declared by its class (docs/defenses.md lists them).
 * A single unnamed parameter binds to the defense's first parameter. Every failure quotes the stage.
 */
public final class Defenses {
    private Defenses() {}

    /** An image defense; a tensor stage ({@code rs}, {@code purify}) is refused here (see {@link #parseStage}). */
    public static Defense parse(String text) {
        Object stage = parseStage(text);
        if (stage instanceof Defense d) {
            return d;
        }
        throw new IllegalArgumentException("defense '" + text.trim() + "' runs on the tensor, not on the 8-bit image");
    }

    /** One stage of a chain: a {@link Defense} (image stage) or a {@link TensorDefense}. */
    static Object parseStage(String text) {
        return Catalogue.create(Kind.DEFENSE, text, Object.class);
    }

    /** Whether {@code d} (a {@link Defense} or {@link TensorDefense}) draws random numbers (its declaration says so). */
    public static boolean randomised(Object d) {
        return Catalogue.entryOf(d).randomised();
    }

    static int clamp8(double v) {
        long r = Math.round(v);
        return (int) Math.max(0, Math.min(255, r));
    }
}
