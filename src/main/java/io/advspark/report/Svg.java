package io.advspark.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Drawing helpers of the page's figures: escaping, number formats, colours and axis ticks. */
public final class Svg {
    private Svg() {}

    /** Text for HTML or SVG content and attribute values. */
    public static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length() + 8);
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /** A coordinate, one decimal. */
    public static String f(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    /** A number as shown on an axis: no trailing .0. */
    public static String tick(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%.3g", v);
    }

    /** Ten distinguishable colours (Tableau 10), for series and attacks. */
    public static final List<String> PALETTE = List.of("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
            "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac");

    public static String colour(int i) {
        return PALETTE.get(Math.floorMod(i, PALETTE.size()));
    }

    /** Dash patterns that tell series apart beyond the ten colours. */
    public static String dash(int i) {
        return switch (Math.floorMod(i / PALETTE.size(), 3)) {
            case 0 -> "";
            case 1 -> " stroke-dasharray=\"6 3\"";
            default -> " stroke-dasharray=\"2 3\"";
        };
    }

    private static final double[][] VIRIDIS = {
        {68, 1, 84}, {72, 40, 120}, {62, 74, 137}, {49, 104, 142}, {38, 130, 142}, {31, 158, 137}, {53, 183, 121},
        {109, 205, 89}, {180, 222, 44}, {253, 231, 37}};

    /** The viridis colour of {@code t} in [0, 1] (clamped): perceptually even, readable in grey. */
    public static String viridis(double t) {
        double x = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
        int i = Math.min((int) Math.floor(x), VIRIDIS.length - 2);
        double u = x - i;
        int[] c = new int[3];
        for (int k = 0; k < 3; k++) {
            c[k] = (int) Math.round(VIRIDIS[i][k] * (1 - u) + VIRIDIS[i + 1][k] * u);
        }
        return String.format(Locale.ROOT, "#%02x%02x%02x", c[0], c[1], c[2]);
    }

    /** Whether text on viridis({@code t}) should be dark (the light yellow-green end). */
    public static boolean darkTextOn(double t) {
        return t > 0.62;
    }

    /** About {@code n} round tick values covering [0, max]. */
    public static List<Double> ticks(double max, int n) {
        if (!(max > 0)) {
            max = 1;
        }
        double raw = max / n;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = mag;
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * mag >= raw) {
                step = m * mag;
                break;
            }
        }
        List<Double> out = new ArrayList<>();
        for (int i = 0; i * step <= max * (1 + 1e-9) + step; i++) {
            out.add(i * step);
            if (i * step >= max) {
                break;
            }
        }
        return out;
    }

    /** An approximate text width in pixels at {@code size} px (for layout: no font metrics in a headless JVM). */
    public static double width(String text, double size) {
        return text.length() * size * 0.58;
    }

    /** A horizontal axis at y from x0 to x1 for values 0..max, ticks below, label centred under them. */
    public static void xAxis(StringBuilder b, double x0, double x1, double y, List<Double> ticks, String suffix, String label) {
        double max = ticks.get(ticks.size() - 1);
        b.append(line(x0, y, x1, y, "#333"));
        for (double t : ticks) {
            double x = x0 + (x1 - x0) * t / max;
            b.append(line(x, y, x, y + 4, "#333"));
            b.append(text(x, y + 16, tick(t) + suffix, "middle", 11, "#333"));
        }
        b.append(text((x0 + x1) / 2, y + 34, label, "middle", 12, "#111"));
    }

    /** A vertical axis at x from y0 (bottom) to y1 (top) for values 0..max, ticks left, label rotated. */
    public static void yAxis(StringBuilder b, double x, double y0, double y1, List<Double> ticks, String suffix, String label,
            boolean grid, double gridTo) {
        double max = ticks.get(ticks.size() - 1);
        b.append(line(x, y0, x, y1, "#333"));
        for (double t : ticks) {
            double y = y0 - (y0 - y1) * t / max;
            if (grid && t > 0) {
                b.append(line(x, y, gridTo, y, "#e4e4e4"));
            }
            b.append(line(x - 4, y, x, y, "#333"));
            b.append(text(x - 7, y + 4, tick(t) + suffix, "end", 11, "#333"));
        }
        double cy = (y0 + y1) / 2;
        b.append("<text x=\"").append(f(x - 44)).append("\" y=\"").append(f(cy)).append("\" text-anchor=\"middle\" font-size=\"12\""
                + " fill=\"#111\" transform=\"rotate(-90 ").append(f(x - 44)).append(' ').append(f(cy)).append(")\">")
                .append(esc(label)).append("</text>");
    }

    public static String line(double x1, double y1, double x2, double y2, String colour) {
        return "<line x1=\"" + f(x1) + "\" y1=\"" + f(y1) + "\" x2=\"" + f(x2) + "\" y2=\"" + f(y2) + "\" stroke=\"" + colour
                + "\"/>";
    }

    public static String text(double x, double y, String s, String anchor, double size, String colour) {
        return "<text x=\"" + f(x) + "\" y=\"" + f(y) + "\" text-anchor=\"" + anchor + "\" font-size=\"" + tick(size)
                + "\" fill=\"" + colour + "\">" + esc(s) + "</text>";
    }

    public static String rect(double x, double y, double w, double h, String fill, String extra) {
        return "<rect x=\"" + f(x) + "\" y=\"" + f(y) + "\" width=\"" + f(w) + "\" height=\"" + f(h) + "\" fill=\"" + fill + "\""
                + extra + "/>";
    }

    /** An SVG element of the given size with a title for screen readers. */
    public static String open(String id, double w, double h, String title) {
        return "<svg id=\"" + esc(id) + "\" width=\"" + f(w) + "\" height=\"" + f(h)
                + "\" viewBox=\"0 0 " + f(w) + " " + f(h) + "\" role=\"img\" font-family=\"inherit\"><title>" + esc(title)
                + "</title>";
    }
}
