package io.advspark.plan;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The score-aware settings of an attack configuration ({@code attack.stop}, {@code attack.search}):
 * which models decide that an image is done, and the budgets a search tries. Both are queried on
 * the quantised image, the one that would be written. Unset, an attack runs every step at its one
 * eps, as it always has.
 */
public final class ScoreAware {
    private ScoreAware() {}

    /** The models whose predictions decide that an image meets the attack's objective. */
    public enum Until {
        /** The attacked ensemble itself, combined as the attack combines it (white-box). */
        SURROGATES,
        /** Every defended variant of every model with role = validation (held out). */
        VALIDATION;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Until parse(String s, String key) {
            for (Until u : values()) {
                if (u.label().equals(s)) {
                    return u;
                }
            }
            throw new io.advspark.vocabulary.ConfigException(key + ": '" + s + "' is not surrogates or validation");
        }
    }

    /**
     * Early exit: stop iterating an image once its quantised iterate meets the objective on
     * {@code until}, checked after every {@code everySteps} steps (not after the last: the image
     * is written then anyway).
     */
    public record Stop(Until until, int everySteps) implements Serializable {
        public Stop {
            if (everySteps < 1) {
                throw new IllegalArgumentException("stop-every must be >= 1, got " + everySteps);
            }
        }

        /** What the resume identity and the attacks table carry, e.g. {@code stop=validation(every=2)}. */
        public String spec() {
            return "stop=" + until.label() + "(every=" + everySteps + ")";
        }
    }

    /** How a search walks its budgets. */
    public enum Mode {
        /** Smallest first, up to the first that succeeds. */
        LADDER,
        /** Bisection over the sorted list (assumes success is monotone in eps). */
        BISECT;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Per-image budget search: each attempt is the full attack at one budget of
     * {@code epsPixels} (ascending, distinct); the image keeps the smallest budget whose written
     * PNG meets the objective on {@code until}, or the largest when none does.
     */
    public record Search(List<Double> epsPixels, Until until, Mode mode, int margin) implements Serializable {
        /** A search without a margin. */
        public Search(List<Double> epsPixels, Until until, Mode mode) {
            this(epsPixels, until, mode, 0);
        }

        public Search {
            if (margin < 0 || margin >= Math.max(1, epsPixels.size())) {
                throw new IllegalArgumentException("search.margin must be in 0.." + (Math.max(1, epsPixels.size()) - 1)
                        + " (budgets above the smallest met one), got " + margin);
            }
            epsPixels = List.copyOf(epsPixels);
            if (epsPixels.isEmpty()) {
                throw new IllegalArgumentException("search.eps must list at least one budget");
            }
            for (int i = 0; i < epsPixels.size(); i++) {
                double e = epsPixels.get(i);
                if (!(e > 0 && e <= 255)) {
                    throw new IllegalArgumentException("search.eps values must be in (0, 255] (0..255 pixel units), got " + e);
                }
                if (i > 0 && !(e > epsPixels.get(i - 1))) {
                    throw new IllegalArgumentException("search.eps must be ascending without repeats, got " + epsPixels);
                }
            }
        }

        /** The largest budget (the one whose PNG is kept when none succeeds). */
        public double maxEps() {
            return epsPixels.get(epsPixels.size() - 1);
        }

        /** What the resume identity and the attacks table carry, e.g. {@code search=ladder(eps=[4,8],until=validation)}. */
        public String spec() {
            return "search=" + mode.label() + "(eps=[" + epsPixels.stream().map(ScoreAware::number)
                    .collect(Collectors.joining(",")) + "],until=" + until.label() + (margin > 0 ? ",margin=" + margin : "")
                    + ")";
        }

        /** The next step of this search for one image (see {@link ScoreAware#walk(Mode, int, Boolean[])}). */
        public Walk walk(Boolean[] met) {
            return ScoreAware.walk(mode, margin, met);
        }
    }

    /**
     * The name of a search's attempt at budget {@code epsPixels}: {@code <attack>.eps<e>}, e.g.
     * {@code mi.eps8}. Its PNGs and records live under that name like an attack's.
     */
    public static String attemptName(String attack, double epsPixels) {
        return attack + ".eps" + number(epsPixels);
    }

    /**
     * Where a search stands for one image: the next budget to try (an index into the budgets),
     * or the decision (the index of the budget whose PNG is kept).
     *
     * @param next index of the budget to attempt next, or -1 when decided
     * @param chosen index of the kept budget when decided, else -1
     */
    public record Walk(int next, int chosen) {
        public boolean decided() {
            return next < 0;
        }
    }

    /**
     * The next step of a search given the outcomes so far ({@code met[i]}: null when budget i was
     * not attempted, else whether its PNG met the objective). A function of the outcomes only, so
     * attempts may run in any task and order. Ladder: the smallest untried budget until one is met;
     * bisect: bisection for the smallest met budget; both keep the largest when none is met, else
     * the budget {@code margin} places above the smallest met one (capped at the largest).
     */
    public static Walk walk(Mode mode, int margin, Boolean[] met) {
        int n = met.length;
        int smallest = n; // the smallest met budget, once the walk has found it (n: none is met)
        if (mode == Mode.LADDER) {
            for (int i = 0; i < n && smallest == n; i++) {
                if (met[i] == null) {
                    return new Walk(i, -1);
                }
                if (met[i]) {
                    smallest = i;
                }
            }
        } else {
            int lo = 0;
            int hi = n;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (met[mid] == null) {
                    return new Walk(mid, -1);
                }
                if (met[mid]) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            smallest = hi;
        }
        if (smallest == n) {
            return new Walk(-1, n - 1); // none met: the largest, which both walks attempted
        }
        // The margin: keep a budget above the smallest met one (attempted if need be).
        int kept = Math.min(smallest + margin, n - 1);
        return met[kept] == null ? new Walk(kept, -1) : new Walk(-1, kept);
    }

    /** A budget as written in names and the search column: 8, 12.5. */
    public static String attemptLabel(double v) {
        return number(v);
    }

    static String number(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
