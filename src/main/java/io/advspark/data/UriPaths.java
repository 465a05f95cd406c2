package io.advspark.data;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * The one check that a path lies inside a folder, used by every write and delete of a round
 * (see {@link Storage#fencedTo}). Works on URIs of any scheme: the scheme and authority must match
 * and the path must be the folder or below it, with no {@code .} or {@code ..} segment anywhere
 * (a URI is never normalised here: {@code a/../b} is refused, not resolved).
 */
public final class UriPaths {
    private UriPaths() {}

    /** Returns {@code uri} if it lies inside {@code root} (or is {@code root}), else throws. */
    public static String requireInside(String root, String uri) {
        String problem = problem(root, uri);
        if (problem != null) {
            throw new OutsideRoundException("refusing to touch " + Storage.redact(uri) + ": " + problem
                    + " (every write and delete of a round stays inside " + Storage.redact(root) + ")");
        }
        return uri;
    }

    /** Null if {@code uri} lies inside {@code root}, else why not. */
    public static String problem(String root, String uri) {
        URI r;
        URI u;
        try {
            r = new URI(strip(root));
            u = new URI(strip(uri));
        } catch (URISyntaxException e) {
            return "not a valid URI (" + e.getMessage() + ")";
        }
        String dots = dotSegment(r.getPath());
        if (dots != null) {
            return "the round folder contains a '" + dots + "' segment";
        }
        dots = dotSegment(u.getPath());
        if (dots != null) {
            return "the path contains a '" + dots + "' segment";
        }
        if (!same(r.getScheme(), u.getScheme()) || !same(r.getRawAuthority(), u.getRawAuthority())) {
            return "another file system than the round's";
        }
        String rp = r.getPath() == null ? "" : r.getPath();
        String up = u.getPath() == null ? "" : u.getPath();
        if (!(up.equals(rp) || up.startsWith(rp + "/"))) {
            return "outside the round folder";
        }
        return null;
    }

    /** The first {@code .} or {@code ..} path segment of a URI, or null (also for an unparsable URI). */
    public static String dotSegments(String uri) {
        try {
            return dotSegment(new URI(uri).getPath());
        } catch (URISyntaxException e) {
            return null;
        }
    }

    /** The first {@code .} or {@code ..} segment of a path, or null. */
    static String dotSegment(String path) {
        if (path == null) {
            return null;
        }
        for (String s : path.split("/", -1)) {
            if (s.equals(".") || s.equals("..")) {
                return s;
            }
        }
        return null;
    }

    private static String strip(String s) {
        return s.length() > 1 && s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    private static boolean same(String a, String b) {
        return a == null ? b == null : a.equalsIgnoreCase(b);
    }

    /** A write or delete that would leave the round's folder: a bug or a hostile name, never done. */
    public static final class OutsideRoundException extends IllegalStateException {
        public OutsideRoundException(String message) {
            super(message);
        }
    }
}
