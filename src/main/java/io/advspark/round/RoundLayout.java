package io.advspark.round;

import io.advspark.data.ImageIds;
import io.advspark.data.Storage;
import io.advspark.data.UriPaths;
import io.advspark.plan.RoundConfig;
import io.advspark.vocabulary.Names;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Where everything of one round lives, computed in one place. Every path is built from checked
 * plain names and verified to lie inside the round folder ({@link UriPaths#requireInside}).
 *
 * <pre>
 * &lt;round&gt;/_advspark_round.json                        the marker: this folder is an advspark round
 * &lt;round&gt;/_advspark_lease.json                        the writer lease (see {@link RoundLease})
 * &lt;round&gt;/images/&lt;attack&gt;/&lt;ImageId&gt;                   the adversarial PNGs of one attack config
 * &lt;round&gt;/records/attack=&lt;attack&gt;/part-&lt;h&gt;.parquet     one file per committed batch
 * &lt;round&gt;/records/attack=&lt;attack&gt;/failed-&lt;h&gt;.parquet   error rows of one task (retried by a rerun)
 * &lt;round&gt;/attacks, predictions, scores, summary        tables (Parquet folders)
 * &lt;round&gt;/corrupt/                                    unreadable files moved aside, never deleted
 * </pre>
 */
public final class RoundLayout implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final String MARKER = "_advspark_round.json";
    public static final String LEASE = "_advspark_lease.json";
    public static final String CORRUPT = "corrupt";
    /** Tables and folders a round writes, all removed by {@code --force}. */
    public static final List<String> OUTPUTS = List.of("images", "records", "attacks", "predictions", "scores", "summary");

    private final String root;

    private RoundLayout(String root) {
        this.root = root.length() > 1 && root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
        String dots = UriPaths.problem(this.root, this.root);
        if (dots != null) {
            throw new IllegalArgumentException("round folder " + Storage.redact(root) + ": " + dots);
        }
    }

    /** The round {@code roundId} under the output root {@code outputUri}. */
    public static RoundLayout of(String outputUri, String roundId) {
        String p = Names.problem(roundId);
        if (p != null) {
            throw new IllegalArgumentException("round id '" + roundId + "' " + p);
        }
        return new RoundLayout(Storage.join(outputUri, roundId));
    }

    /** The round a plan describes. */
    public static RoundLayout of(RoundConfig plan) {
        return of(plan.output(), plan.roundId());
    }

    /** An existing round folder given by its URI (e.g. {@code advspark report ROUND}). */
    public static RoundLayout at(String roundUri) {
        return new RoundLayout(roundUri);
    }

    public String root() {
        return root;
    }

    /** {@code uri} if it lies inside this round, else an {@link UriPaths.OutsideRoundException}. */
    public String requireInside(String uri) {
        return UriPaths.requireInside(root, uri);
    }

    /** A path below the round from plain segments: none may be empty, hold a '/', or be '.' or '..'. */
    private String inside(String... segments) {
        String uri = root;
        for (String s : segments) {
            if (s == null || s.isEmpty() || s.indexOf('/') >= 0 || s.equals(".") || s.equals("..")) {
                throw new UriPaths.OutsideRoundException("refusing path segment '" + s + "' under " + Storage.redact(root));
            }
            uri = Storage.join(uri, s);
        }
        return requireInside(uri);
    }

    private static String attack(String name) {
        String p = Names.problem(name);
        if (p != null) {
            throw new UriPaths.OutsideRoundException("attack name '" + name + "' " + p);
        }
        return name;
    }

    private static String imageId(String id) {
        String p = ImageIds.problem(id);
        if (p != null) {
            throw new UriPaths.OutsideRoundException(p);
        }
        return id;
    }

    public String marker() {
        return inside(MARKER);
    }

    public String lease() {
        return inside(LEASE);
    }

    /** One of {@link #OUTPUTS}: a table or the images folder. */
    public String output(String name) {
        if (!OUTPUTS.contains(name)) {
            throw new IllegalArgumentException("not an output of a round: " + name);
        }
        return inside(name);
    }

    public String images(String attack) {
        return inside("images", attack(attack));
    }

    public String png(String attack, String imageId) {
        return inside("images", attack(attack), pngName(imageId(imageId)));
    }

    /** Path of an attack's PNG relative to the round folder (the records' {@code output_file}). */
    public static String relativePng(String attack, String imageId) {
        return "images/" + attack(attack) + "/" + pngName(imageId(imageId));
    }

    /**
     * The file name of an image's adversarial PNG: its ImageId, with {@code .png} appended when
     * the id has another extension (a JPEG input's id {@code x.jpg} gives {@code x.jpg.png}: the
     * output is always PNG, and appending keeps two ids from one name).
     */
    public static String pngName(String imageId) {
        return imageId.toLowerCase(java.util.Locale.ROOT).endsWith(".png") ? imageId : imageId + ".png";
    }

    public String records() {
        return inside("records");
    }

    public String records(String attack) {
        return inside("records", "attack=" + attack(attack));
    }

    /** The record file committing a batch: named by the attack and the batch's ImageIds. */
    public String batchFile(String attack, List<String> imageIds) {
        return inside("records", "attack=" + attack(attack), "part-" + hash(attack, imageIds) + ".parquet");
    }

    /** The error rows of one task for one attack, keyed by what failed (ImageIds or manifest lines). */
    public String failedFile(String attack, List<String> keys) {
        return inside("records", "attack=" + attack(attack), "failed-" + hash(attack, keys) + ".parquet");
    }

    /** Where an unreadable file of the round is moved: {@code corrupt/<its path>} with a {@code corrupt-} name. */
    public String quarantine(String uri) {
        requireInside(uri);
        String rel = uri.substring(root.length() + 1);
        int slash = rel.lastIndexOf('/');
        String dir = slash < 0 ? "" : rel.substring(0, slash);
        String name = rel.substring(slash + 1);
        String[] parts = dir.isEmpty() ? new String[0] : dir.split("/");
        String[] segments = new String[parts.length + 2];
        segments[0] = CORRUPT;
        System.arraycopy(parts, 0, segments, 1, parts.length);
        segments[segments.length - 1] = "corrupt-" + name;
        return inside(segments);
    }

    static String hash(String attack, List<String> keys) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(attack.getBytes(StandardCharsets.UTF_8));
            for (String k : keys) {
                d.update((byte) '\n');
                d.update(k.getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(d.digest(), 0, 10);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return Storage.redact(root);
    }
}
