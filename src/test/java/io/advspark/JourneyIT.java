package io.advspark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.testing.Scripts;
import io.advspark.testing.Shared;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * README's "your first own round" as a new user walks it, with nothing of the project's shared data
 * or models: a made-up ImageFolder of a few PNGs, torchvision models exported with random weights
 * by tools/export_model.py, then {@code init}, {@code attack}, {@code report --html} and a rerun,
 * every command run from the user's own folder (not the repository).
 */
class JourneyIT {
    private static final List<String> CLASSES = List.of("cat", "dog", "frog");
    private static final Path LAUNCHER = Path.of("jobs/advspark").toAbsolutePath();

    /** {@code cmd} run with {@code dir} as the working folder; its output. */
    private static String in(Path dir, List<String> cmd) throws Exception {
        List<String> all = new ArrayList<>(List.of("bash", "-c", "cd \"$0\" && exec \"$@\"", dir.toString()));
        all.addAll(cmd);
        return Scripts.run(all, Map.of(), Duration.ofMinutes(10), 0);
    }

    private static List<String> advspark(String... args) {
        List<String> cmd = new ArrayList<>(List.of(LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    @Test
    void ownImagesAndModelsToAnHtmlReport(@TempDir Path home) throws Exception {
        Path python = Shared.python(); // skips (fails under CI=true) without PyTorch
        Random random = new Random(7);
        for (int c = 0; c < CLASSES.size(); c++) {
            Path dir = Files.createDirectories(home.resolve("data").resolve(CLASSES.get(c)));
            for (int i = 0; i < 4; i++) {
                BufferedImage img = new BufferedImage(48, 48, BufferedImage.TYPE_INT_RGB);
                Graphics2D g = img.createGraphics();
                g.setColor(new Color(random.nextInt(256), random.nextInt(256), random.nextInt(256)));
                g.fillRect(0, 0, 48, 48);
                g.setColor(new Color(80 * c, 255 - 80 * c, random.nextInt(256)));
                g.fillOval(8 + i, 8, 24 + 4 * c, 24);
                g.dispose();
                ImageIO.write(img, "png", dir.resolve("img" + i + ".png").toFile());
            }
        }
        Path tool = Path.of("tools/export_model.py").toAbsolutePath();
        String[][] models = {{"resnet18", "1", "r18a"}, {"mobilenet_v3_small", "2", "mnv3"}, {"resnet18", "3", "r18t"}};
        for (String[] m : models) {
            in(home, List.of(python.toString(), tool.toString(), "--source", "torchvision", "--arch", m[0], "--weights",
                    "random", "--seed", m[1], "--num-classes", "3", "--input-size", "48", "--name", m[2], "--out", "models"));
            assertTrue(Files.exists(home.resolve("models/" + m[2] + ".json")), m[2] + "'s card");
        }

        String init = in(home, advspark("init", "--data", "data", "-m", "models/r18a.pt", "-m", "models/mnv3.pt", "-t",
                "models/r18t.pt", "-o", "round.conf"));
        assertTrue(init.contains("round.conf"), init);
        String conf = Files.readString(home.resolve("round.conf"));
        assertTrue(conf.contains("image-folder"), conf);

        // A short round: the journey, not the attack's strength, is under test.
        String attack = in(home, advspark("attack", "-c", "round.conf", "--set", "attack.steps=2", "--master", "local[2]"));
        assertTrue(attack.contains("advspark round finished"), attack);
        assertTrue(attack.contains("advspark leaderboard: round round"), attack);
        try (Stream<Path> s = Files.list(home.resolve("out/round/images"))) {
            for (Path attackDir : s.toList()) {
                try (Stream<Path> pngs = Files.list(attackDir)) {
                    assertEquals(12, pngs.filter(p -> p.toString().endsWith(".png")).count(), attackDir.toString());
                }
            }
        }

        String report = in(home, advspark("report", "-c", "round.conf", "--set", "attack.steps=2", "--html",
                "report.html"));
        assertTrue(report.contains("advspark leaderboard"), report);
        String html = Files.readString(home.resolve("report.html"));
        for (String figure : List.of("fig-leaderboard", "fig-heatmap", "fig-norms", "fig-grid")) {
            assertTrue(html.contains("id=\"" + figure + "\""), figure + " missing from the page");
        }
        assertTrue(html.contains("data:image/png;base64,"), "the image grid embeds the pictures");
        assertTrue(!html.contains("http://") && !html.contains("https://"), "the page stands alone");

        String rerun = in(home, advspark("attack", "-c", "round.conf", "--set", "attack.steps=2"));
        assertTrue(rerun.contains("round round is complete and its evaluation is up to date: nothing to do"), rerun);
    }
}
