package io.advspark;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.cli.Main;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * What a reader follows exists: every relative link of README.md and docs/ leads to a file (and
 * its anchor to a heading), and every command in README's code blocks names a script of the
 * repository and, for advspark's own commands, a subcommand and options it has.
 */
class DocsTest {
    private static final Pattern LINK = Pattern.compile("\\[[^\\]]*\\]\\(([^)\\s]+)\\)");

    private static List<Path> pages() throws IOException {
        List<Path> out = new ArrayList<>(List.of(Path.of("README.md"), Path.of("notebooks/README.md")));
        try (Stream<Path> s = Files.list(Path.of("docs"))) {
            s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(out::add);
        }
        return out;
    }

    /** The lines outside fenced code blocks. */
    private static List<String> prose(Path page) throws IOException {
        List<String> out = new ArrayList<>();
        boolean code = false;
        for (String l : Files.readAllLines(page)) {
            if (l.strip().startsWith("```")) {
                code = !code;
            } else if (!code) {
                out.add(l);
            }
        }
        return out;
    }

    /** The lines of the fenced code blocks, continuation lines ({@code \}) joined. */
    private static List<String> codeLines(Path page) throws IOException {
        List<String> out = new ArrayList<>();
        boolean code = false;
        StringBuilder pending = new StringBuilder();
        for (String l : Files.readAllLines(page)) {
            if (l.strip().startsWith("```")) {
                code = !code;
                continue;
            }
            if (!code) {
                continue;
            }
            String t = l.strip();
            if (t.endsWith("\\")) {
                pending.append(t, 0, t.length() - 1).append(' ');
                continue;
            }
            out.add(pending + t);
            pending.setLength(0);
        }
        return out;
    }

    /** GitHub's anchors of a page's headings (duplicates numbered -1, -2, ...). */
    private static Set<String> anchors(Path page) throws IOException {
        Set<String> out = new HashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        for (String l : prose(page)) {
            if (!l.startsWith("#")) {
                continue;
            }
            String slug = l.replaceFirst("^#+\\s*", "").strip().toLowerCase(Locale.ROOT)
                    .replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
            int n = seen.merge(slug, 1, Integer::sum);
            out.add(n == 1 ? slug : slug + "-" + (n - 1));
        }
        return out;
    }

    @Test
    void everyRelativeLinkAndAnchorResolves() throws IOException {
        List<String> broken = new ArrayList<>();
        for (Path page : pages()) {
            for (String l : prose(page)) {
                // Inline code is not a link.
                Matcher m = LINK.matcher(l.replaceAll("`[^`]*`", ""));
                while (m.find()) {
                    String target = m.group(1);
                    if (target.matches("^[a-z]+:.*")) {
                        continue; // http(s), mailto
                    }
                    int hash = target.indexOf('#');
                    String file = hash < 0 ? target : target.substring(0, hash);
                    Path resolved = file.isEmpty() ? page : page.toAbsolutePath().getParent().resolve(file).normalize();
                    if (!Files.exists(resolved)) {
                        broken.add(page + ": " + target + " (no such file)");
                    } else if (hash >= 0 && resolved.toString().endsWith(".md")
                            && !anchors(resolved).contains(target.substring(hash + 1))) {
                        broken.add(page + ": " + target + " (no such heading)");
                    }
                }
            }
        }
        assertTrue(broken.isEmpty(), "broken links:\n" + String.join("\n", broken));
    }

    @Test
    void everyCommandInTheReadmeExists() throws IOException {
        CommandLine cli = new CommandLine(new Main());
        List<String> wrong = new ArrayList<>();
        int checked = 0;
        for (String line : codeLines(Path.of("README.md"))) {
            String cmd = line.replaceFirst("\\s+#.*$", "").replaceFirst("^([A-Z_]+=\\S+\\s+)+", "").strip();
            List<String> words = List.of(cmd.split("\\s+"));
            if (words.isEmpty() || cmd.isEmpty()) {
                continue;
            }
            String first = words.get(0);
            List<String> advsparkArgs = null;
            if (first.startsWith("jobs/") || first.startsWith("tools/") || first.equals("python3")
                    && words.size() > 1 && words.get(1).startsWith("tools/")) {
                Path script = Path.of(first.equals("python3") ? words.get(1) : first);
                checked++;
                if (!Files.isRegularFile(script)) {
                    wrong.add(line + ": no " + script);
                    continue;
                }
                if (first.equals("python3")) {
                    String source = Files.readString(script);
                    for (String w : words) {
                        if (w.startsWith("--") && !source.contains("\"" + w + "\"")) {
                            wrong.add(line + ": " + script + " has no option " + w);
                        }
                    }
                } else if (!Files.isExecutable(script)) {
                    wrong.add(line + ": " + script + " is not executable");
                }
                if (first.equals("jobs/advspark")) {
                    advsparkArgs = words.subList(1, words.size());
                } else if (first.startsWith("jobs/submit-")) {
                    advsparkArgs = words.subList(2, words.size()); // after the master URL
                }
            } else if (first.equals("advspark") && words.size() > 2 && words.get(1).matches("[a-z]+")
                    && words.get(2).matches("-.*|[A-Z_]+")) {
                advsparkArgs = words.subList(1, words.size()); // the synopsis of the commands (not program output)
            } else if (first.equals("mvn")) {
                checked++;
            }
            if (advsparkArgs != null && !advsparkArgs.isEmpty()) {
                checked++;
                String sub = advsparkArgs.get(0);
                CommandLine c = cli.getSubcommands().get(sub);
                if (c == null) {
                    wrong.add(line + ": advspark has no command " + sub);
                    continue;
                }
                CommandSpec spec = c.getCommandSpec();
                for (String w : advsparkArgs) {
                    String opt = w.replaceAll("[\\[\\]]|\\.\\.\\.$", "").replaceFirst("=.*$", "");
                    if (opt.startsWith("-") && opt.length() > 1 && spec.findOption(opt) == null) {
                        wrong.add(line + ": advspark " + sub + " has no option " + opt);
                    }
                    if (w.startsWith("conf/") && !Files.exists(Path.of(w))) {
                        wrong.add(line + ": no " + w);
                    }
                }
            }
        }
        assertTrue(checked >= 8, "found only " + checked + " commands in README.md's code blocks");
        assertTrue(wrong.isEmpty(), String.join("\n", wrong));
    }
}
