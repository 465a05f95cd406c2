package io.advspark.defense;

import io.advspark.attack.spec.PartSpec;
import io.advspark.attack.spec.Params;
import io.advspark.attack.spec.SpecException;
import java.util.Locale;

/**
 * The defense vocabulary: parses one stage of a chain ({@code jpeg(75)}, {@code bits(b=4)},
 * {@code rp}, {@code median(3)}, {@code blur(sigma=1)}). A single unnamed parameter binds to the
 * defense's first parameter. Every failure quotes the stage.
 */
public final class Defenses {
    private Defenses() {}

    public static Defense parse(String text) {
        PartSpec spec = PartSpec.parse(positional(text));
        Params p = spec.params("defense");
        Defense d = switch (spec.name()) {
            case "jpeg" -> new JpegDefense(p.integer("quality", 75, 1, 100));
            case "bits" -> new BitDepth(p.integer("bits", 4, 1, 8));
            case "rp" -> new ResizePad(p.dbl("ratio", 331.0 / 299.0, 1.0, 4.0));
            case "median" -> {
                int k = p.integer("size", 3, 1, 31);
                if (k % 2 == 0) {
                    throw new SpecException("defense '" + text.trim() + "': median size must be odd, got " + k);
                }
                yield new Median(k);
            }
            case "blur" -> new GaussianBlur(p.dbl("sigma", 1.0, 0.01, 50));
            default -> throw new SpecException("unknown defense '" + spec.name() + "' in '" + text.trim()
                    + "' (known: jpeg(quality), bits(bits), rp(ratio), median(size), blur(sigma))");
        };
        p.done();
        return d;
    }

    /** {@code name(v)} -> {@code name(first=v)} for the defense's first parameter. */
    private static String positional(String text) {
        String s = text == null ? "" : text.trim();
        int open = s.indexOf('(');
        if (open < 0 || !s.endsWith(")")) {
            return s;
        }
        String inner = s.substring(open + 1, s.length() - 1).trim();
        if (inner.isEmpty() || inner.contains("=") || inner.contains(",")) {
            return s;
        }
        String first = switch (s.substring(0, open).trim().toLowerCase(Locale.ROOT)) {
            case "jpeg" -> "quality";
            case "bits" -> "bits";
            case "rp" -> "ratio";
            case "median" -> "size";
            case "blur" -> "sigma";
            default -> null;
        };
        return first == null ? s : s.substring(0, open) + "(" + first + "=" + inner + ")";
    }

    static int clamp8(double v) {
        long r = Math.round(v);
        return (int) Math.max(0, Math.min(255, r));
    }
}
