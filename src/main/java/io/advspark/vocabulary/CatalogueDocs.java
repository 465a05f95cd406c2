package io.advspark.vocabulary;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Generates the reference pages {@code docs/attack-parts.md}, {@code docs/defenses.md} and
 * {@code docs/scores.md} from the catalogue, so the documentation cannot drift from the code.
 * Only entries shipped with advspark (the catalogue's own classpath root) are documented, not
 * test-only ones. Run {@code tools/generate-docs}; {@code CatalogueDocsTest} fails when a committed
 * page differs from what this writes.
 */
public final class CatalogueDocs {
    /** The command that regenerates the pages, for messages. */
    public static final String COMMAND = "tools/generate-docs";

    private CatalogueDocs() {}

    /** Writes the pages into the folder given as the only argument (default {@code docs}). */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "docs");
        Files.createDirectories(dir);
        for (Map.Entry<String, String> page : pages().entrySet()) {
            Files.writeString(dir.resolve(page.getKey()), page.getValue(), StandardCharsets.UTF_8);
            System.out.println("wrote " + dir.resolve(page.getKey()));
        }
    }

    /** Page file name -> content. */
    public static Map<String, String> pages() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("attack-parts.md", page("Attack parts", """
                An attack is the product of orthogonal parts, each chosen by a spec `name(key=value, ...)` in the
                `attack` section of a round (or an entry of `attacks`). Names and keys are case-insensitive;
                a parameter not given takes its default. An unknown part, an unknown parameter or a value out of
                range fails at configuration load with the spec quoted. The canonical spec, which spells out the
                parameters as below, is what records store and what seeds every random draw (round id, attack
                spec, ImageId), so a part's canonical spec never changes for the same values.
                """, List.of(Kind.UPDATE, Kind.LOSS, Kind.INIT, Kind.INPUT, Kind.GRADIENT, Kind.FILTER, Kind.AUGMENT,
                        Kind.ENSEMBLE)));
        out.put("defenses.md", page("Defenses", """
                A target model may list defended variants (`defenses` of a model with `role = target`), each a
                chain of input defenses applied to the 8-bit image left to right before the model, e.g.
                `jpeg(75) > bits(4) > model`. The trailing `> model` may be omitted; `model` (or `none`) alone is
                the undefended target. A single unnamed value binds to the defense's first parameter (`jpeg(75)`
                is `jpeg(quality=75)`). The canonical chain (below, every parameter spelled out, ending in
                `model`) names the variant in the tables and seeds a randomised defense's draws per image.

                Two stages involve a network and run on the float image after every 8-bit stage:
                `purify(path=...)` (any number, each a TorchScript image-to-image model) and `rs` (at most
                one; it votes over the stages after it and the model), e.g.
                `jpeg(75) > purify(path=s3a://b/nrp.pt) > rs(sigma=0.25,n=100) > model`. A chain with `rs`
                fills the `clean_vote_margin` and `adv_vote_margin` columns of `predictions` (docs/tables.md).
                A purifier must map `[N,3,H,W]` images in [0,1] to images of the same shape in [0,1]: when
                the round is evaluated, each purifier is read (any storage URI; a plain path is made absolute
                at configuration load, like a model's) and probed on the round's first clean image after the
                chain's 8-bit stages and on noise of that size, and refused, naming the file, if it fails.
                """, List.of(Kind.DEFENSE)));
        out.put("scores.md", page("Scores", """
                The competition score of `advspark evaluate` is chosen by `advspark.evaluate.score`: a value per
                (image, defended target) and how an image's values over the targets combine. The canonical spec
                is written to the evaluation tables.
                """, List.of(Kind.SCORE)));
        return out;
    }

    private static String title(Kind k) {
        return switch (k) {
            case UPDATE -> "Update rules";
            case LOSS -> "Losses";
            case INIT -> "Starts (init)";
            case INPUT -> "Input transforms";
            case GRADIENT -> "Gradient transforms";
            case FILTER -> "Perturbation filters";
            case AUGMENT -> "Model augmentations";
            case ENSEMBLE -> "Ensemble modes";
            case DEFENSE -> "Defenses";
            case SCORE -> "Score presets";
        };
    }

    private static String note(Kind k) {
        return switch (k) {
            case UPDATE -> "Empty (the default) keeps MI-FGSM with `advspark.attack.decay`.";
            case LOSS -> "Empty (the default) keeps the cross-entropy given by `advspark.attack.objective`.";
            case INPUT, GRADIENT, AUGMENT -> "A list, applied in order.";
            case FILTER -> "`none` (the default) is no filter.";
            case ENSEMBLE -> "`logits` (the default), `probs` and `losses` fuse the surrogates' outputs before the loss;"
                    + " the strategies (`svre`, `cwa`, `adaea`) take each surrogate's own gradient and hand the update"
                    + " rule a gradient of their own (TransferAttack pairs them with MI-FGSM).";
            default -> "";
        };
    }

    private static String page(String title, String intro, List<Kind> kinds) {
        StringBuilder b = new StringBuilder();
        b.append("# ").append(title).append("\n\n");
        b.append("<!-- Generated from the catalogue by io.advspark.vocabulary.CatalogueDocs; do not edit.")
                .append(" Regenerate with ").append(COMMAND).append(". -->\n\n");
        b.append(intro).append('\n');
        for (Kind k : kinds) {
            b.append("## ").append(title(k)).append(" (`").append(k.key()).append("`)\n\n");
            if (!note(k).isEmpty()) {
                b.append(note(k)).append("\n\n");
            }
            for (Entry<?> e : Catalogue.entries(k)) {
                if (!shipped(e)) {
                    continue;
                }
                b.append("### `").append(e.name()).append("`\n\n");
                b.append(e.summary()).append(".\n\n");
                if (e.hasRequired()) {
                    b.append("- canonical form, e.g.: `").append(e.example().render()).append("`\n");
                } else {
                    b.append("- canonical default: `").append(e.defaults().render()).append("`\n");
                }
                if (!e.aliases().isEmpty()) {
                    b.append("- also called: ").append(String.join(", ", e.aliases().stream().map(a -> "`" + a + "`").toList()))
                            .append('\n');
                }
                b.append("- randomised: ").append(e.randomised() ? "yes (draws from the image's stream)" : "no").append('\n');
                b.append("- paper: ").append(e.paper()).append("\n\n");
                if (!e.params().isEmpty()) {
                    b.append("| parameter | type | default | range | meaning |\n|---|---|---|---|---|\n");
                    for (Param p : e.params()) {
                        b.append("| `").append(p.name()).append("` | ").append(p.type().name().toLowerCase(java.util.Locale.ROOT))
                                .append(" | ").append(cell(defaultText(p))).append(" | ").append(cell(p.domain()))
                                .append(" | ").append(cell(p.meaning())).append(" |\n");
                    }
                    b.append('\n');
                }
            }
        }
        return b.toString().replaceAll("\n+$", "\n");
    }

    private static String defaultText(Param p) {
        if (p.required()) {
            return "(required)";
        }
        String d = p.render(p.defaultValue());
        return p.omitDefault() ? d + " (not written)" : d;
    }

    private static String cell(String s) {
        return s.replace("|", "\\|");
    }

    /** Whether the entry comes from advspark itself (the catalogue's classpath root), not a test or plugin. */
    private static boolean shipped(Entry<?> e) {
        return Objects.equals(root(e.type()), root(Catalogue.class));
    }

    private static String root(Class<?> c) {
        CodeSource cs = c.getProtectionDomain().getCodeSource();
        return cs == null || cs.getLocation() == null ? null : cs.getLocation().toString();
    }
}
