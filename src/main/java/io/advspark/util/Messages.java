package io.advspark.util;

/** Helpers for user-facing messages. */
public final class Messages {
    private Messages() {}

    /** The first line of a (possibly multi-line, native) exception message; "" for null. */
    public static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
