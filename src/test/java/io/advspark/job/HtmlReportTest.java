package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.cli.Main;
import io.advspark.plan.RoundConfig;
import io.advspark.testing.Chromium;
import io.advspark.testing.Report;
import io.advspark.testing.Rounds;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code advspark report --html FILE} on a real evaluated round: the demo set attacked by two
 * attack families (MI, MI-DI) at eps 8 and 16 (a sweep), scored on tiny_c plain and behind
 * jpeg(75). The page is self-contained, its leaderboard shows the terminal report's numbers, and
 * each figure, rendered alone in headless Chromium (and the whole page), draws something: a good
 * share of non-background pixels in several colours. Screenshots stay in target/html-report/.
 */
class HtmlReportTest {
    private static final Path SHOTS = Path.of("target", "html-report");

    private record Run(int exit, String out, String err) {}

    private static Run cli(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = new CommandLine(new Main()).execute(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    @Test
    void htmlPageOfAnEvaluatedRoundWithAnEpsSweep(@TempDir Path out) throws Exception {
        String[] overrides = {"round.output=\"" + out + "\"", "round.id=html",
            "models=[{path=demo/models/tiny_a.pt},{path=demo/models/tiny_b.pt},"
                    + "{path=demo/models/tiny_c.pt, role=target, defenses=[\"model\", \"jpeg(75)\"]}]",
            "attacks=[{name=mi},{name=mi-di, input=[\"di\"]}]", "grid.eps=[8, 16]"};
        RoundConfig cfg = Rounds.config(Rounds.TINY.getPath(), overrides);
        Rounds.run(cfg, "local[2]");
        Rounds.evaluate(cfg, "local[2]");

        Files.createDirectories(SHOTS);
        Path page = SHOTS.resolve("report.html");
        List<String> args = new ArrayList<>(List.of("report", "-c", Rounds.TINY.getPath()));
        for (String o : overrides) {
            args.add("--set");
            args.add(o);
        }
        args.addAll(List.of("--html", page.toString()));
        long t0 = System.nanoTime();
        Run run = cli(args.toArray(String[]::new));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, run.exit(), run.out() + run.err());
        assertTrue(run.err().contains("advspark: wrote " + page.toAbsolutePath()), run.err());
        String html = Files.readString(page);
        Report.append("html-report.md", String.format(Locale.ROOT, "report --html: %.1f s, page %d KB (4 attack configs x 48"
                + " images, 2 defended targets)", seconds, html.length() / 1024));

        // Self-contained: nothing fetched.
        assertFalse(html.toLowerCase(Locale.ROOT).contains("http://") || html.toLowerCase(Locale.ROOT).contains("https://"),
                "a network reference in the page");
        assertFalse(html.contains("<script") || html.contains("<link") || html.contains("@import") || html.contains("url(http"),
                "external resources");
        Matcher src = Pattern.compile("src=\"([^\"]*)\"").matcher(html);
        int images = 0;
        while (src.find()) {
            assertTrue(src.group(1).startsWith("data:image/png;base64,"), "an image not embedded: " + src.group(1));
            images++;
        }
        assertEquals(6 * (1 + 4 * 2), images, "6 images: clean, and adversarial + perturbation for each of 4 attack configs");
        assertTrue(html.length() < 3_000_000, "bounded page size: " + html.length());

        // The header and the figures.
        for (String s : List.of("round URI", out.resolve("html").toUri().toString().replaceAll("/$", ""), "tianchi2019",
                "<dd>48</dd>", "perturbation x7")) {
            assertTrue(html.contains(s), "page lacks '" + s + "'");
        }
        Map<String, String> figures = new LinkedHashMap<>();
        Matcher fig = Pattern.compile("<figure id=\"(fig-[a-z]+)\">.*?</figure>", Pattern.DOTALL).matcher(html);
        while (fig.find()) {
            figures.put(fig.group(1), fig.group());
        }
        assertEquals(List.of("fig-leaderboard", "fig-heatmap", "fig-sweep", "fig-norms", "fig-grid"),
                new ArrayList<>(figures.keySet()));
        assertTrue(figures.get("fig-sweep").contains("<svg id=\"sweep\""), "an eps sweep is drawn");
        for (String family : List.of(">mi<", ">mi-di<", "eps (0..255 pixel units)")) {
            assertTrue(figures.get("fig-sweep").contains(family), "sweep lacks " + family);
        }
        assertTrue(figures.get("fig-norms").contains("L-inf (0..255 pixel units)"));
        assertTrue(figures.get("fig-heatmap").contains(">success (%)<"), "the colour bar's label");

        // The leaderboard: the terminal report's numbers, row by row.
        List<String> terminal = run.out().lines().skip(2).map(HtmlReportTest::words).filter(l -> !l.isEmpty()).toList();
        List<String> table = new ArrayList<>();
        Matcher tr = Pattern.compile("<tr[^>]*>(.*?)</tr>", Pattern.DOTALL).matcher(figures.get("fig-leaderboard"));
        while (tr.find()) {
            List<String> cells = new ArrayList<>();
            Matcher td = Pattern.compile("<t[hd][^>]*>(.*?)</t[hd]>").matcher(tr.group(1));
            while (td.find()) {
                cells.add(unescape(td.group(1)));
            }
            table.add(words(String.join(" ", cells)));
        }
        assertEquals(terminal, table, "the HTML leaderboard's rows are the terminal report's:\n" + run.out());
        assertEquals(2 + 4, table.size(), "header, clean-correct line, 4 attack configs");
        assertTrue(table.get(0).contains("jpeg(quality=75) > tiny_c") && table.get(2).matches("1 .*\\[.*\\].*"), table.toString());

        // Without --config (the round folder only): no dataset, so the grid shows the PNGs and says why not more.
        Path bare = SHOTS.resolve("report-round-folder.html");
        Run plain = cli("report", out.resolve("html").toString(), "--html", bare.toString(), "--format", "csv");
        assertEquals(0, plain.exit(), plain.err());
        assertTrue(plain.out().startsWith("rank,attack,"), "stdout stays the CSV: " + plain.out());
        String bareHtml = Files.readString(bare);
        assertTrue(bareHtml.contains("does not record its dataset"), "the grid's note");
        assertEquals(6 * 4, bareHtml.split("data:image/png;base64,", -1).length - 1, "the adversarial PNGs only");

        // Rendered: each figure alone with the page's CSS (for a human to look at), its drawing alone (SVG or
        // table: what is measured), and the whole page.
        String css = html.substring(html.indexOf("<style>"), html.indexOf("</style>") + "</style>".length());
        Map<String, int[]> minimum = Map.of( // {per mille of the drawing's box that is drawn, distinct colours}
                "fig-leaderboard", new int[] {100, 6}, "fig-heatmap", new int[] {150, 20}, "fig-sweep", new int[] {25, 12},
                "fig-norms", new int[] {25, 12}, "fig-grid", new int[] {400, 500}, "page", new int[] {150, 500});
        for (Map.Entry<String, String> f : figures.entrySet()) {
            Path alone = SHOTS.resolve(f.getKey() + ".html");
            Files.writeString(alone, page(css, f.getValue()));
            Chromium.screenshot(alone, SHOTS.resolve(f.getKey() + ".png"), 1280, f.getKey().equals("fig-grid") ? 1300 : 700);
            Matcher drawing = Pattern.compile("<(svg|table) [^>]*id=.*?</\\1>", Pattern.DOTALL).matcher(f.getValue());
            assertTrue(drawing.find(), f.getKey() + " has no SVG or table with an id");
            Path only = SHOTS.resolve(f.getKey() + "-drawing.html");
            Files.writeString(only, page(css + "<style>body { margin: 0; padding: 0; max-width: none; }</style>", drawing.group()));
            Path png = SHOTS.resolve(f.getKey() + "-drawing.png");
            Chromium.screenshot(only, png, 1280, 1300);
            check(f.getKey(), png, minimum.get(f.getKey()));
        }
        Path full = SHOTS.resolve("page.png");
        Chromium.screenshot(page, full, 1280, 3000);
        check("page", full, minimum.get("page"));
    }

    private static String page(String css, String body) {
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">" + css + "</head><body>\n" + body
                + "\n</body></html>\n";
    }

    /**
     * Asserts a screenshot draws something: within the box around everything not white, a good share
     * of pixels drawn, in enough colours; and the box is not a speck.
     */
    private static void check(String name, Path png, int[] minimum) throws Exception {
        BufferedImage img = ImageIO.read(png.toFile());
        int x0 = img.getWidth();
        int y0 = img.getHeight();
        int x1 = -1;
        int y1 = -1;
        long ink = 0;
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y) & 0xffffff;
                int r = rgb >> 16 & 0xff;
                int g = rgb >> 8 & 0xff;
                int b = rgb & 0xff;
                if (Math.min(r, Math.min(g, b)) < 245) {
                    ink++;
                    colours.add((r >> 3) << 10 | (g >> 3) << 5 | (b >> 3));
                    x0 = Math.min(x0, x);
                    y0 = Math.min(y0, y);
                    x1 = Math.max(x1, x);
                    y1 = Math.max(y1, y);
                }
            }
        }
        assertTrue(x1 - x0 >= 200 && y1 - y0 >= 80, name + ": the drawing is only " + (x1 - x0 + 1) + "x" + (y1 - y0 + 1)
                + " px: " + png);
        long perMille = 1000 * ink / ((long) (x1 - x0 + 1) * (y1 - y0 + 1));
        Report.append("html-report.md", String.format(Locale.ROOT, "%s: drawing %dx%d px, %d per mille of it drawn, %d colours"
                + " (%s)", name, x1 - x0 + 1, y1 - y0 + 1, perMille, colours.size(), png));
        assertTrue(perMille >= minimum[0], name + ": only " + perMille + " per mille of the drawing's box is drawn: " + png);
        assertTrue(colours.size() >= minimum[1], name + ": only " + colours.size() + " colours in " + png);
    }

    private static String words(String s) {
        return s.trim().replaceAll("\\s+", " ");
    }

    private static String unescape(String s) {
        return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&");
    }
}
