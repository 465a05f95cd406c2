package io.advspark.defense;

import io.advspark.data.RgbImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A defended variant of a target: defenses applied left to right, then the model, written
 * {@code jpeg(75) > bits(4) > model}. The trailing {@code > model} is optional; {@code model}
 * or {@code none} alone is the undefended target. The canonical spec ({@link #spec()}) spells
 * out every parameter and ends in {@code model}.
 */
public record DefenseChain(List<Defense> stages) implements java.io.Serializable {
    public static final DefenseChain NONE = new DefenseChain(List.of());

    public DefenseChain {
        stages = List.copyOf(stages);
    }

    /** Parses a chain; an unknown defense or a bad parameter fails with the chain quoted. */
    public static DefenseChain parse(String text) {
        String s = text == null ? "" : text.trim();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty defense chain (use \"model\" for the undefended target)");
        }
        String[] parts = s.split(">");
        List<Defense> out = new ArrayList<>();
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i].trim();
            boolean last = i == parts.length - 1;
            if (p.equalsIgnoreCase("model") || (parts.length == 1 && p.equalsIgnoreCase("none"))) {
                if (!last) {
                    throw new IllegalArgumentException("defense chain '" + s + "': 'model' must come last");
                }
                continue;
            }
            if (p.isEmpty()) {
                throw new IllegalArgumentException("defense chain '" + s + "': empty stage");
            }
            try {
                out.add(Defenses.parse(p));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("defense chain '" + s + "': " + e.getMessage(), e);
            }
        }
        return new DefenseChain(out);
    }

    public boolean isNone() {
        return stages.isEmpty();
    }

    /** Whether any stage draws random numbers (by its catalogue declaration). */
    public boolean randomised() {
        return stages.stream().anyMatch(Defenses::randomised);
    }

    public RgbImage apply(RgbImage image, Random rnd) {
        RgbImage x = image;
        for (Defense d : stages) {
            x = d.apply(x, rnd);
        }
        return x;
    }

    /** {@code jpeg(quality=75) > bits(bits=4) > model}; {@code model} for no defense. */
    public String spec() {
        StringBuilder b = new StringBuilder();
        for (Defense d : stages) {
            b.append(d.spec()).append(" > ");
        }
        return b.append("model").toString();
    }

    @Override
    public String toString() {
        return spec();
    }
}
