package io.advspark.util;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/** Content fingerprints: SHA-256 for inputs a round's identity rests on, CRC32C for written PNGs. */
public final class Fingerprint {
    private Fingerprint() {}

    /** SHA-256 of {@code bytes}, lower-case hex. */
    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * CRC32C of {@code bytes} as an unsigned 32-bit value. It guards against accidental damage
     * (truncation, a partial copy, bit rot), not against tampering: whoever can rewrite a PNG can
     * rewrite its record too. It is hardware-accelerated in the JDK, so checking every PNG of a
     * round costs about the read, and it is the checksum S3 can keep per object itself.
     */
    public static long crc32c(byte[] bytes) {
        CRC32C c = new CRC32C();
        c.update(bytes, 0, bytes.length);
        return c.getValue();
    }
}
