package io.advspark.report;

import static io.advspark.report.Svg.esc;
import static io.advspark.report.Svg.f;

import io.advspark.score.Leaderboard;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code advspark report --html FILE}: one self-contained page of an evaluated round. Nothing on
 * it is fetched: the CSS is inline, the figures are SVG drawn here, the pictures are
 * {@code data:} URIs. Every figure is a {@code <figure id="fig-...">} with its legend in the
 * caption, outside the plotted data.
 */
public final class HtmlReport {
    private HtmlReport() {}

    /** Attack configs shown in the image grid (the best ranked); images per attack config. */
    public static final int GRID_ATTACKS = 6;
    public static final int GRID_IMAGES = 6;
    /** Sweeps drawn (one panel each). */
    static final int SWEEP_PANELS = 6;

    /**
     * One figure of the page.
     *
     * @param id the figure's element id ({@code fig-...})
     * @param body SVG or HTML
     * @param legend one or two sentences under it: what is drawn, units, where the numbers come from
     */
    public record Figure(String id, String title, String body, String legend) {}

    static final String CSS = """
            body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; color: #1b1b1b;
              background: #fff; margin: 0 auto; padding: 20px 28px 40px; max-width: 1240px; font-size: 14px; line-height: 1.45; }
            h1 { font-size: 22px; margin: 0 0 6px; }
            h2 { font-size: 17px; margin: 0 0 8px; }
            dl.meta { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; margin: 8px 0 18px; color: #333; }
            dl.meta dt { font-weight: 600; } dl.meta dd { margin: 0; word-break: break-all; }
            figure { margin: 0 0 26px; padding: 14px 16px 10px; border: 1px solid #dcdcdc; border-radius: 6px; background: #fff; }
            figcaption { color: #444; font-size: 13px; margin-top: 8px; max-width: 1100px; }
            .scroll { overflow-x: auto; }
            table.lb { border-collapse: collapse; font-variant-numeric: tabular-nums; }
            table.lb th, table.lb td { padding: 4px 10px; border-bottom: 1px solid #e6e6e6; text-align: right; white-space: nowrap; }
            table.lb th { background: #f3f5f8; border-bottom: 2px solid #c9ced6; vertical-align: bottom; }
            table.lb td.name, table.lb th.name { text-align: left; }
            table.lb tr.clean td { color: #555; font-style: italic; background: #fafafa; }
            table.lb tr.best td { font-weight: 600; }
            p.note { color: #555; font-style: italic; margin: 4px 0; }
            table.grid { border-collapse: collapse; font-size: 12px; }
            table.grid th { background: #f3f5f8; padding: 4px 6px; border: 1px solid #e0e0e0; font-weight: 600; }
            table.grid td { padding: 4px; border: 1px solid #e8e8e8; text-align: center; vertical-align: top; }
            table.grid td.id { text-align: left; white-space: nowrap; }
            table.grid img { display: block; margin: 0 auto 2px; image-rendering: pixelated; background: #eee; }
            .cap { color: #333; line-height: 1.3; font-size: 11px; max-width: 104px; margin: 0 auto; overflow-wrap: anywhere; }
            .ok { color: #1a7f37; } .fooled { color: #b42318; font-weight: 600; }
            svg text { font-family: inherit; }
            """;

    /** The page. */
    public static String render(ReportData d) {
        List<Figure> figures = new ArrayList<>();
        figures.add(leaderboard(d));
        figures.add(heatmap(d));
        figures.add(sweep(d));
        figures.add(norms(d));
        figures.add(grid(d));
        ReportData.Header h = d.header();
        StringBuilder b = new StringBuilder(1 << 16);
        b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>advspark report: ").append(esc(h.roundId())).append("</title>\n<style>\n").append(CSS)
                .append("</style>\n</head>\n<body>\n");
        b.append("<h1>advspark report: round ").append(esc(h.roundId())).append("</h1>\n<dl class=\"meta\">\n");
        meta(b, "round", h.roundId());
        meta(b, "round URI", h.roundUri());
        meta(b, "score", h.scoreSpec());
        meta(b, "images", Long.toString(h.images()));
        meta(b, "attack configs", Long.toString(d.entries().stream().map(Leaderboard.Entry::attack).distinct().count()));
        meta(b, "defended targets", Long.toString(d.entries().stream().map(Leaderboard.Entry::variant).distinct().count()));
        meta(b, "generated", h.generated() + " by advspark " + h.version());
        b.append("</dl>\n");
        for (Figure fig : figures) {
            b.append("<figure id=\"").append(esc(fig.id())).append("\">\n<h2>").append(esc(fig.title())).append("</h2>\n")
                    .append(fig.body()).append("\n<figcaption>").append(fig.legend()).append("</figcaption>\n</figure>\n");
        }
        return b.append("</body>\n</html>\n").toString();
    }

    private static void meta(StringBuilder b, String k, String v) {
        b.append("<dt>").append(esc(k)).append("</dt><dd>").append(esc(v)).append("</dd>\n");
    }

    /** The metric of the heatmap and the sweep: the report's when it is a success rate, else untargeted on clean-correct. */
    static Leaderboard.Metric rateMetric(Leaderboard.Metric m) {
        return m.isRate() ? m : Leaderboard.Metric.UNTARGETED_ON_CORRECT;
    }

    // ---- leaderboard ---------------------------------------------------------------------------

    /** The terminal leaderboard's cells (Leaderboard.table), as an HTML table. */
    static Figure leaderboard(ReportData d) {
        Leaderboard.Table t = Leaderboard.table(d.entries(), d.metric(), d.style());
        StringBuilder b = new StringBuilder("<div class=\"scroll\"><table class=\"lb\" id=\"leaderboard\">\n<thead><tr>");
        List<String> head = t.head();
        for (int i = 0; i < head.size(); i++) {
            b.append(i == 1 ? "<th class=\"name\">" : "<th>").append(esc(head.get(i))).append("</th>");
        }
        b.append("</tr></thead>\n<tbody>\n");
        for (int r = 1; r < t.cells().size(); r++) {
            List<String> row = t.cells().get(r);
            b.append(r == 1 ? "<tr class=\"clean\">" : r == 2 ? "<tr class=\"best\">" : "<tr>");
            for (int i = 0; i < row.size(); i++) {
                b.append(i == 1 ? "<td class=\"name\">" : "<td>").append(esc(row.get(i))).append("</td>");
            }
            b.append("</tr>\n");
        }
        b.append("</tbody></table></div>");
        return new Figure("fig-leaderboard", "Leaderboard", b.toString(), esc("Ranked by the mean over the defended targets"
                + " (columns). " + Character.toUpperCase(t.legend().charAt(0)) + t.legend().substring(1) + ". The same numbers as"
                + " the terminal's advspark report."));
    }

    // ---- heatmap -------------------------------------------------------------------------------

    static Figure heatmap(ReportData d) {
        Leaderboard.Metric m = rateMetric(d.metric());
        List<String> rows = Leaderboard.rankedAttacks(d.entries(), d.metric());
        List<String> cols = new ArrayList<>(new LinkedHashSet<>(d.entries().stream().map(Leaderboard.Entry::variant).toList()));
        Map<String, Leaderboard.Entry> cell = new LinkedHashMap<>();
        d.entries().forEach(e -> cell.put(e.attack() + "\u0000" + e.variant(), e));
        double cw = Math.max(92, cols.stream().mapToDouble(c -> Svg.width(c, 11) * 0.5).max().orElse(92));
        cw = Math.min(cw, 120);
        double ch = 34;
        double left = 16 + rows.stream().mapToDouble(r -> Svg.width(r, 12)).max().orElse(40);
        double maxLabel = cols.stream().mapToDouble(c -> Svg.width(c, 11)).max().orElse(40);
        double top = 20 + maxLabel * Math.sin(Math.toRadians(35));
        double gridW = cw * cols.size();
        double gridH = ch * rows.size();
        double barX = left + gridW + 36;
        double barH = Math.max(gridH, 150);
        double width = barX + 14 + 40 + 26;
        double rightOverhang = maxLabel * Math.cos(Math.toRadians(35)) - cw * 0.5;
        width = Math.max(width, left + gridW + rightOverhang + 10);
        double height = top + Math.max(gridH, barH) + 16;
        StringBuilder b = new StringBuilder(Svg.open("heatmap", width, height, "success by attack and defended target"));
        for (int j = 0; j < cols.size(); j++) {
            double x = left + cw * j + cw / 2;
            double y = top - 8;
            b.append("<text x=\"").append(f(x)).append("\" y=\"").append(f(y)).append("\" font-size=\"11\" fill=\"#222\""
                    + " transform=\"rotate(-35 ").append(f(x)).append(' ').append(f(y)).append(")\">").append(esc(cols.get(j)))
                    .append("</text>");
        }
        for (int i = 0; i < rows.size(); i++) {
            double y = top + ch * i;
            b.append(Svg.text(left - 8, y + ch / 2 + 4, rows.get(i), "end", 12, "#222"));
            for (int j = 0; j < cols.size(); j++) {
                Leaderboard.Entry e = cell.get(rows.get(i) + "\u0000" + cols.get(j));
                double v = e == null ? Double.NaN : m.of(e);
                double x = left + cw * j;
                String fill = Double.isNaN(v) ? "#d9d9d9" : Svg.viridis(v / 100);
                b.append(Svg.rect(x, y, cw, ch, fill, " stroke=\"#fff\" stroke-width=\"1\""));
                b.append(Svg.text(x + cw / 2, y + ch / 2 + 4, Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f%%", v),
                        "middle", 12, Double.isNaN(v) || Svg.darkTextOn(v / 100) ? "#111" : "#fff"));
            }
        }
        // colour bar, 0..100 %, labelled
        b.append("<defs><linearGradient id=\"heat-scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">");
        for (int k = 0; k <= 10; k++) {
            b.append("<stop offset=\"").append(k * 10).append("%\" stop-color=\"").append(Svg.viridis(k / 10.0)).append("\"/>");
        }
        b.append("</linearGradient></defs>");
        b.append(Svg.rect(barX, top, 14, barH, "url(#heat-scale)", " stroke=\"#999\" stroke-width=\"0.5\""));
        for (int k = 0; k <= 4; k++) {
            double y = top + barH - barH * k / 4;
            b.append(Svg.line(barX + 14, y, barX + 18, y, "#333"));
            b.append(Svg.text(barX + 21, y + 4, (k * 25) + "%", "start", 11, "#333"));
        }
        double cy = top + barH / 2;
        double lx = barX + 60;
        b.append("<text x=\"").append(f(lx)).append("\" y=\"").append(f(cy)).append("\" text-anchor=\"middle\" font-size=\"11\""
                + " fill=\"#111\" transform=\"rotate(90 ").append(f(lx)).append(' ').append(f(cy)).append(")\">success (%)</text>");
        b.append(Svg.text(left - 8, top - 8, "attack config", "end", 11, "#555"));
        b.append("</svg>");
        return new Figure("fig-heatmap", "Success by attack and defended target", b.toString(), esc("Cell: " + m.label()
                + ", printed in each cell; colour bar 0-100%. Rows: attack configs in leaderboard order; columns: defended"
                + " targets; grey: no images to rate."));
    }

    // ---- success against eps -------------------------------------------------------------------

    /** Families of attack configs that differ only in eps, with at least two budgets. */
    static Map<String, List<ReportData.AttackInfo>> sweeps(ReportData d) {
        Set<String> scored = new LinkedHashSet<>(d.entries().stream().map(Leaderboard.Entry::attack).toList());
        Map<String, List<ReportData.AttackInfo>> byFamily = new LinkedHashMap<>();
        for (ReportData.AttackInfo a : d.attacks()) {
            if (scored.contains(a.attack()) && !Double.isNaN(a.eps())) {
                byFamily.computeIfAbsent(a.family(), k -> new ArrayList<>()).add(a);
            }
        }
        Map<String, List<ReportData.AttackInfo>> out = new LinkedHashMap<>();
        for (List<ReportData.AttackInfo> f : byFamily.values()) {
            if (f.stream().map(ReportData.AttackInfo::eps).distinct().count() >= 2) {
                List<ReportData.AttackInfo> sorted = new ArrayList<>(f);
                sorted.sort(java.util.Comparator.comparingDouble(ReportData.AttackInfo::eps)
                        .thenComparing(ReportData.AttackInfo::attack));
                out.put(familyLabel(sorted), sorted);
            }
        }
        return out;
    }

    /** A family's name: the attack names without their {@code -eps<e>} part when that makes them equal, else listed. */
    static String familyLabel(List<ReportData.AttackInfo> f) {
        Set<String> stripped = new LinkedHashSet<>();
        for (ReportData.AttackInfo a : f) {
            stripped.add(a.attack().replaceAll("-eps[0-9._]+", ""));
        }
        if (stripped.size() == 1) {
            return stripped.iterator().next();
        }
        String all = String.join(", ", f.stream().map(ReportData.AttackInfo::attack).toList());
        return all.length() > 60 ? all.substring(0, 57) + "..." : all;
    }

    static Figure sweep(ReportData d) {
        Leaderboard.Metric m = rateMetric(d.metric());
        Map<String, List<ReportData.AttackInfo>> sweeps = sweeps(d);
        String title = "Success against eps";
        if (sweeps.isEmpty()) {
            return new Figure("fig-sweep", title, "<p class=\"note\">No eps sweep in this round (no attack configs that differ"
                    + " only in eps), so no figure.</p>", "");
        }
        List<String> variants = new ArrayList<>(new LinkedHashSet<>(d.entries().stream().map(Leaderboard.Entry::variant).toList()));
        Map<String, Leaderboard.Entry> cell = new LinkedHashMap<>();
        d.entries().forEach(e -> cell.put(e.attack() + "\u0000" + e.variant(), e));
        double maxEps = d.attacks().stream().mapToDouble(ReportData.AttackInfo::eps).filter(v -> !Double.isNaN(v)).max().orElse(16);
        List<Double> xt = Svg.ticks(maxEps, 5);
        List<Double> yt = List.of(0.0, 20.0, 40.0, 60.0, 80.0, 100.0);
        double pw = 330;
        double ph = 210;
        double left = 62;
        double top = 34;
        double panelW = left + pw + 24;
        double panelH = top + ph + 52;
        List<Map.Entry<String, List<ReportData.AttackInfo>>> panels = new ArrayList<>(sweeps.entrySet());
        String note = "";
        if (panels.size() > SWEEP_PANELS) {
            note = " Showing " + SWEEP_PANELS + " of " + panels.size() + " sweeps.";
            panels = panels.subList(0, SWEEP_PANELS);
        }
        int perRow = Math.min(panels.size(), 3);
        int nRows = (panels.size() + perRow - 1) / perRow;
        double legendW = 26 + variants.stream().mapToDouble(v -> Svg.width(v, 12)).max().orElse(60);
        double width = perRow * panelW + legendW + 20;
        double height = Math.max(nRows * panelH, 24 + 20 * variants.size());
        StringBuilder b = new StringBuilder(Svg.open("sweep", width, height, "success against eps"));
        for (int p = 0; p < panels.size(); p++) {
            double ox = (p % perRow) * panelW;
            double oy = (p / perRow) * panelH;
            double x0 = ox + left;
            double y0 = oy + top + ph;
            b.append(Svg.text(x0 + pw / 2, oy + 18, panels.get(p).getKey(), "middle", 13, "#111"));
            Svg.yAxis(b, x0, y0, y0 - ph, yt, "%", "success (%)", true, x0 + pw);
            Svg.xAxis(b, x0, x0 + pw, y0, xt, "", "eps (0..255 pixel units)");
            double xmax = xt.get(xt.size() - 1);
            for (int v = 0; v < variants.size(); v++) {
                StringBuilder pts = new StringBuilder();
                StringBuilder marks = new StringBuilder();
                for (ReportData.AttackInfo a : panels.get(p).getValue()) {
                    Leaderboard.Entry e = cell.get(a.attack() + "\u0000" + variants.get(v));
                    double val = e == null ? Double.NaN : m.of(e);
                    if (Double.isNaN(val)) {
                        continue;
                    }
                    double x = x0 + pw * a.eps() / xmax;
                    double y = y0 - ph * val / 100;
                    pts.append(pts.isEmpty() ? "" : " ").append(f(x)).append(',').append(f(y));
                    marks.append("<circle cx=\"").append(f(x)).append("\" cy=\"").append(f(y)).append("\" r=\"3.5\" fill=\"")
                            .append(Svg.colour(v)).append("\"><title>").append(esc(a.attack() + " on " + variants.get(v) + ": "
                                    + String.format(Locale.ROOT, "%.1f%%", val))).append("</title></circle>");
                }
                b.append("<polyline fill=\"none\" stroke=\"").append(Svg.colour(v)).append("\" stroke-width=\"2\"")
                        .append(Svg.dash(v)).append(" points=\"").append(pts).append("\"/>").append(marks);
            }
        }
        double lx = perRow * panelW + 6;
        b.append(Svg.text(lx, 18, "defended target", "start", 12, "#111"));
        for (int v = 0; v < variants.size(); v++) {
            double y = 36 + 20 * v;
            b.append("<line x1=\"").append(f(lx)).append("\" y1=\"").append(f(y - 4)).append("\" x2=\"").append(f(lx + 18))
                    .append("\" y2=\"").append(f(y - 4)).append("\" stroke=\"").append(Svg.colour(v))
                    .append("\" stroke-width=\"2.5\"").append(Svg.dash(v)).append("/>");
            b.append(Svg.text(lx + 24, y, variants.get(v), "start", 12, "#222"));
        }
        b.append("</svg>");
        return new Figure("fig-sweep", title, b.toString(), esc("One panel per family of attack configs that differ only in"
                + " eps; one line per defended target. y: " + m.label() + "." + note));
    }

    // ---- norms ---------------------------------------------------------------------------------

    /** Five numbers of a sample: min, lower quartile, median, upper quartile, max; and the mean. */
    record Box(double min, double q1, double median, double q3, double max, double mean, int n) {
        static Box of(double[] v) {
            double[] s = v.clone();
            Arrays.sort(s);
            return new Box(s[0], q(s, 0.25), q(s, 0.5), q(s, 0.75), s[s.length - 1], Arrays.stream(s).average().orElse(0),
                    s.length);
        }

        private static double q(double[] s, double p) {
            double x = p * (s.length - 1);
            int i = (int) Math.floor(x);
            return i + 1 < s.length ? s[i] + (x - i) * (s[i + 1] - s[i]) : s[i];
        }
    }

    static Figure norms(ReportData d) {
        Map<String, List<ReportData.Norm>> byAttack = new TreeMap<>();
        d.norms().forEach(n -> byAttack.computeIfAbsent(n.attack(), k -> new ArrayList<>()).add(n));
        if (byAttack.isEmpty()) {
            return new Figure("fig-norms", "Perturbation norms", "<p class=\"note\">No written PNGs in the records.</p>", "");
        }
        List<String> order = new ArrayList<>();
        for (String a : Leaderboard.rankedAttacks(d.entries(), d.metric())) {
            if (byAttack.containsKey(a)) {
                order.add(a);
            }
        }
        byAttack.keySet().stream().filter(a -> !order.contains(a)).forEach(order::add);
        Map<String, Double> eps = new LinkedHashMap<>();
        d.attacks().forEach(a -> eps.put(a.attack(), a.eps()));
        double left = 16 + order.stream().mapToDouble(a -> Svg.width(a, 12)).max().orElse(40);
        double pw = 380;
        double rowH = 28;
        double top = 30;
        double plotH = rowH * order.size();
        double gap = 60;
        double width = left + pw + gap + pw + 30;
        double height = top + plotH + 56;
        StringBuilder b = new StringBuilder(Svg.open("norms", width, height, "perturbation norms per attack config"));
        String[] titles = {"L-inf of the written PNG", "L2 of the written PNG"};
        String[] axis = {"L-inf (0..255 pixel units)", "L2 (0..255 pixel units, all pixels and channels)"};
        for (int panel = 0; panel < 2; panel++) {
            double x0 = panel == 0 ? left : left + pw + gap;
            final int pnl = panel;
            double max = 0;
            for (String a : order) {
                for (ReportData.Norm n : byAttack.get(a)) {
                    max = Math.max(max, pnl == 0 ? n.linf() : n.l2());
                }
                if (pnl == 0 && eps.containsKey(a) && !Double.isNaN(eps.get(a))) {
                    max = Math.max(max, eps.get(a));
                }
            }
            List<Double> xt = Svg.ticks(max * 1.05, 5);
            double xmax = xt.get(xt.size() - 1);
            b.append(Svg.text(x0 + pw / 2, 16, titles[panel], "middle", 13, "#111"));
            for (double t : xt) {
                double x = x0 + pw * t / xmax;
                if (t > 0) {
                    b.append(Svg.line(x, top, x, top + plotH, "#ececec"));
                }
            }
            Svg.xAxis(b, x0, x0 + pw, top + plotH, xt, "", axis[panel]);
            b.append(Svg.line(x0, top, x0, top + plotH, "#333"));
            for (int i = 0; i < order.size(); i++) {
                String a = order.get(i);
                double[] v = byAttack.get(a).stream().mapToDouble(n -> pnl == 0 ? n.linf() : n.l2()).toArray();
                Box box = Box.of(v);
                double cy = top + rowH * i + rowH / 2;
                if (panel == 0) {
                    b.append(Svg.text(left - 8, cy + 4, a, "end", 12, "#222"));
                }
                java.util.function.DoubleUnaryOperator X = val -> x0 + pw * val / xmax;
                String c = Svg.colour(i);
                b.append(Svg.line(X.applyAsDouble(box.min()), cy, X.applyAsDouble(box.q1()), cy, "#555"));
                b.append(Svg.line(X.applyAsDouble(box.q3()), cy, X.applyAsDouble(box.max()), cy, "#555"));
                b.append(Svg.line(X.applyAsDouble(box.min()), cy - 5, X.applyAsDouble(box.min()), cy + 5, "#555"));
                b.append(Svg.line(X.applyAsDouble(box.max()), cy - 5, X.applyAsDouble(box.max()), cy + 5, "#555"));
                double bw = Math.max(2, X.applyAsDouble(box.q3()) - X.applyAsDouble(box.q1()));
                b.append(Svg.rect(X.applyAsDouble(box.q1()), cy - 8, bw, 16, c, " fill-opacity=\"0.75\" stroke=\"#333\"")
                        .replace("/>", "><title>" + esc(String.format(Locale.ROOT,
                                "%s: n=%d, min %.1f, quartiles %.1f / %.1f / %.1f, max %.1f, mean %.1f", a, box.n(), box.min(),
                                box.q1(), box.median(), box.q3(), box.max(), box.mean())) + "</title></rect>"));
                b.append("<line x1=\"").append(f(X.applyAsDouble(box.median()))).append("\" y1=\"").append(f(cy - 8))
                        .append("\" x2=\"").append(f(X.applyAsDouble(box.median()))).append("\" y2=\"").append(f(cy + 8))
                        .append("\" stroke=\"#111\" stroke-width=\"2\"/>");
                double mx = X.applyAsDouble(box.mean());
                b.append("<path d=\"M").append(f(mx)).append(' ').append(f(cy - 4)).append(" l4 4 l-4 4 l-4 -4 z\" fill=\"#fff\""
                        + " stroke=\"#111\"/>");
                if (panel == 0 && eps.containsKey(a) && !Double.isNaN(eps.get(a))) {
                    double ex = X.applyAsDouble(eps.get(a));
                    b.append("<line x1=\"").append(f(ex)).append("\" y1=\"").append(f(cy - 11)).append("\" x2=\"").append(f(ex))
                            .append("\" y2=\"").append(f(cy + 11)).append("\" stroke=\"#c0392b\" stroke-width=\"2\""
                                    + " stroke-dasharray=\"3 2\"/>");
                }
            }
        }
        b.append("</svg>");
        return new Figure("fig-norms", "Perturbation norms of the written PNGs", b.toString(), esc("Per attack config, over"
                + " its error-free records: box from the lower to the upper quartile, black bar the median, white diamond the"
                + " mean, whiskers to min and max. Red dashes: the config's eps (an L-inf never exceeds it)."));
    }

    // ---- image grid ----------------------------------------------------------------------------

    /** The amplification of the perturbation pictures: the largest eps shown spans the grey range. */
    static double amplification(ReportData d) {
        double maxEps = 0;
        for (ReportData.AttackInfo a : d.attacks()) {
            if (d.samples().attacks().contains(a.attack()) && !Double.isNaN(a.eps())) {
                maxEps = Math.max(maxEps, a.eps());
            }
        }
        if (maxEps == 0) {
            maxEps = d.norms().stream().mapToDouble(ReportData.Norm::linf).max().orElse(16);
        }
        return Math.max(1, Math.floor(127.5 / Math.max(1, maxEps)));
    }

    static Figure grid(ReportData d) {
        ReportData.Samples s = d.samples();
        String title = "Images: clean, adversarial, perturbation";
        if (s.images().isEmpty() || s.attacks().isEmpty()) {
            return new Figure("fig-grid", title, "<p class=\"note\">" + esc(s.note().isEmpty() ? "No images to show." : s.note())
                    + "</p>", "");
        }
        double amp = amplification(d);
        String ampText = Svg.tick(amp);
        StringBuilder b = new StringBuilder("<div class=\"scroll\"><table class=\"grid\" id=\"image-grid\">\n<thead><tr>"
                + "<th rowspan=\"2\">image</th><th rowspan=\"2\">clean</th>");
        for (String a : s.attacks()) {
            b.append("<th colspan=\"2\">").append(esc(a)).append("</th>");
        }
        b.append("</tr>\n<tr>");
        for (int i = 0; i < s.attacks().size(); i++) {
            b.append("<th>adversarial</th><th>perturbation x").append(ampText).append("</th>");
        }
        b.append("</tr></thead>\n<tbody>\n");
        for (ReportData.Image im : s.images()) {
            b.append("<tr><td class=\"id\"><b>").append(esc(im.imageId())).append("</b><br>true label: ")
                    .append(im.trueLabel() == null ? "?" : im.trueLabel());
            if (im.targetLabel() != null) {
                b.append("<br>target: ").append(im.targetLabel());
            }
            b.append("</td><td>");
            b.append(im.clean() == null ? "<span class=\"note\">not read</span>" : Thumbnails.img(im.clean(), "clean " + im.imageId()));
            b.append("</td>");
            for (String a : s.attacks()) {
                ReportData.Adversarial adv = s.adversarial().getOrDefault(a, Map.of()).get(im.imageId());
                if (adv == null || adv.image() == null) {
                    b.append("<td colspan=\"2\"><span class=\"note\">").append(adv == null ? "no PNG" : "PNG not read")
                            .append("</span></td>");
                    continue;
                }
                b.append("<td>").append(Thumbnails.img(adv.image(), a + " " + im.imageId())).append("<div class=\"cap\">");
                b.append(prediction("surrogates", adv.surrogatePred(), im.trueLabel()));
                long fooled = adv.targetPreds().values().stream().filter(p -> p != null && !p.equals(im.trueLabel())).count();
                if (!adv.targetPreds().isEmpty()) {
                    if (adv.targetPreds().size() <= 2) {
                        adv.targetPreds().forEach((v, p) -> b.append("<br>").append(prediction(v, p, im.trueLabel())));
                    } else {
                        b.append("<br><span class=\"").append(fooled > 0 ? "fooled" : "ok").append("\">targets fooled: ")
                                .append(fooled).append('/').append(adv.targetPreds().size()).append("</span>");
                    }
                }
                b.append("</div></td><td>");
                if (im.clean() != null && im.clean().height() == adv.image().height() && im.clean().width() == adv.image().width()) {
                    b.append(Thumbnails.img(Thumbnails.perturbation(im.clean(), adv.image(), amp), "perturbation " + a + " "
                            + im.imageId()));
                } else {
                    b.append("<span class=\"note\">no clean image</span>");
                }
                b.append("<div class=\"cap\">").append(String.format(Locale.ROOT, "L-inf %d, L2 %.1f", adv.linf(), adv.l2()))
                        .append("</div></td>");
            }
            b.append("</tr>\n");
        }
        b.append("</tbody></table></div>");
        if (!s.note().isEmpty()) {
            b.append("<p class=\"note\">").append(esc(s.note())).append("</p>");
        }
        return new Figure("fig-grid", title, b.toString(), esc("The same " + s.images().size() + " images (evenly spaced in"
                + " ImageId order) for each attack config shown. Perturbation: 127.5 + " + ampText + " x (adversarial - clean)"
                + " per channel, clamped to 0..255 (grey: unchanged; amplification " + ampText + "x). Predictions are top-1"
                + " labels in the manifest's convention; red: not the true label. Pictures downscaled to at most "
                + Thumbnails.MAX_SIDE + " px."));
    }

    private static String prediction(String who, Integer pred, Integer truth) {
        String p = pred == null ? "?" : pred.toString();
        boolean fooled = pred != null && truth != null && !pred.equals(truth);
        return esc(who) + ": <span class=\"" + (fooled ? "fooled" : "ok") + "\">" + p + "</span>";
    }
}
