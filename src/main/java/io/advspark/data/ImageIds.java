package io.advspark.data;

/**
 * ImageIds come from a CSV that may be hostile or simply wrong. They are used as output file
 * names, so only plain file names are accepted: nothing that could climb out of the round's
 * folder or address another filesystem.
 */
public final class ImageIds {
    private ImageIds() {}

    /** Returns null when {@code id} is a safe plain file name, else the reason it is not. */
    public static String problem(String id) {
        if (id == null || id.isEmpty()) {
            return "ImageId is empty";
        }
        if (id.equals(".") || id.equals("..") || id.contains("..")) {
            return "ImageId '" + id + "' contains '..'";
        }
        if (id.indexOf('/') >= 0 || id.indexOf('\\') >= 0) {
            return "ImageId '" + id + "' is not a plain file name (path separator)";
        }
        if (id.indexOf(':') >= 0) {
            return "ImageId '" + id + "' contains ':' (absolute path, drive or URI scheme)";
        }
        if (id.startsWith("~") || id.startsWith(".")) {
            return "ImageId '" + id + "' starts with '" + id.charAt(0) + "'";
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return "ImageId contains a control character";
            }
        }
        if (id.length() > 255) {
            return "ImageId is longer than 255 characters";
        }
        return null;
    }
}
