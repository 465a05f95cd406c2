package io.advspark.score;

/**
 * Wilson score interval for a binomial proportion (Wilson 1927; the interval Brown, Cai and
 * DasGupta 2001 recommend for small n): centre {@code (p + z^2/2n) / (1 + z^2/n)}, half-width
 * {@code z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n)}. With n = 0 the interval is [0, 1].
 *
 * @param low lower bound
 * @param high upper bound
 */
public record Wilson(double low, double high) {
    /** z for a two-sided 95% interval. */
    public static final double Z95 = 1.959963984540054;

    public static Wilson interval(long successes, long n) {
        return interval(successes, n, Z95);
    }

    public static Wilson interval(long successes, long n, double z) {
        if (successes < 0 || successes > n) {
            throw new IllegalArgumentException("successes " + successes + " not in 0.." + n);
        }
        if (n == 0) {
            return new Wilson(0, 1);
        }
        double p = (double) successes / n;
        double z2 = z * z;
        double denom = 1 + z2 / n;
        double centre = (p + z2 / (2.0 * n)) / denom;
        double half = z * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / denom;
        return new Wilson(Math.max(0, centre - half), Math.min(1, centre + half));
    }
}
