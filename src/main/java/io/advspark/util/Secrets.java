package io.advspark.util;

import io.advspark.vocabulary.Names;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one rule for what advspark never echoes: the value of any key whose name says secret,
 * password, passwd, token, credential, session or access key ({@code fs.s3.awsAccessKeyId}, which
 * Spark fills from {@code AWS_ACCESS_KEY_ID}), or has a segment {@code key} (ends in
 * {@code .key}: {@code fs.s3a.access.key}, {@code fs.s3a.encryption.key}; or
 * {@code fs.azure.account.key.<account>}; or {@code AWS_ACCESS_KEY_ID}), or lies under
 * {@code fs.gs.auth.}; and the user-info of any URI. The same rule refuses credential keys in a
 * round's {@code spark.conf} ({@code ConfigLoader}) and masks the launcher's printed command line:
 * {@code jobs/secrets.sh} is its bash twin, and {@code SecretsTest} holds both to one key table.
 */
public final class Secrets {
    /** What a masked value becomes: plain letters, so that a shell-quoted command line shows it as is. */
    public static final String MASK = "REDACTED";

    /**
     * Names that contain a secret word but hold no secret, removed before matching: the S3A
     * provider-chain selector and Hadoop's credential keystore path (the recommended alternatives to
     * a key in a file, so refusing them would push users the wrong way), and Spark SQL's session
     * settings ({@code spark.sql.session.timeZone}).
     */
    static final String[] NOT_SECRET = {"credentials.provider", "credential.provider", "sql.session."};

    /**
     * The words, on the lower-cased name without quotes. POSIX ERE syntax on purpose: bash's
     * {@code [[ =~ ]]} runs the very same expression (jobs/secrets.sh).
     */
    static final String WORDS =
            "secret|password|passwd|token|credential|session|accesskey|(^|[._-])key($|[._-])|(^|\\.)fs\\.gs\\.auth\\.";

    private static final Pattern SECRET = Pattern.compile(WORDS);

    /**
     * Spark's default {@code spark.redaction.regex} ({@code (?i)secret|password|token|access[.]key}),
     * kept whole, plus our words and URI user-info. Spark matches it against names and values (a
     * match masks the whole value) and has no exemptions, so it masks a little more than
     * {@link #isSecretKey} (a time zone, a provider class): harmless.
     */
    public static final String SPARK_REDACTION_REGEX =
            "(?i)secret|password|token|access[.]key|" + WORDS + "|[a-z][a-z0-9+.-]*://[^/@\\s\"']+@";

    /** URI user-info: {@code scheme://user:password@host}. */
    private static final Pattern USER_INFO = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://)[^/@\\s\"']+@");

    /**
     * {@code key=value} or {@code key = value} inside free text (a quoted command line, a HOCON
     * message): the key is a run of name characters, optionally quoted; the value runs to
     * whitespace, a comma, a closing brace or quote. Not {@code key: value}: that is also prose.
     */
    private static final Pattern ASSIGNMENT =
            Pattern.compile("(\"?[A-Za-z0-9_][A-Za-z0-9_.\\-\"]*\"?)(\\s*=\\s*)(\"[^\"]*\"|[^\\s,}\"']*)");

    private Secrets() {}

    /** Whether a key names a secret (case and HOCON quotes ignored; any prefix such as {@code spark.hadoop.}). */
    public static boolean isSecretKey(String key) {
        if (key == null) {
            return false;
        }
        String k = key.toLowerCase(Locale.ROOT).replace("\"", "");
        for (String n : NOT_SECRET) {
            k = k.replace(n, ".");
        }
        return SECRET.matcher(k).find();
    }

    /**
     * One argument ({@code key=value} of {@code --set}, {@code --conf=key=value},
     * {@code -Dkey=value}) with everything after the first {@code =} whose left side names a secret
     * masked, and URI user-info masked.
     */
    public static String redactAssignment(String arg) {
        if (arg == null) {
            return null;
        }
        for (int eq = arg.indexOf('='); eq >= 0; eq = arg.indexOf('=', eq + 1)) {
            if (isSecretKey(arg.substring(0, eq))) {
                return arg.substring(0, eq + 1) + MASK;
            }
        }
        return redactUris(arg);
    }

    /** Masks the user-info of every URI in {@code text}. */
    public static String redactUris(String text) {
        return text == null ? null : USER_INFO.matcher(text).replaceAll("$1" + Matcher.quoteReplacement(MASK) + "@");
    }

    /**
     * Free text (an error message, a log line) with URI user-info masked and the value of every
     * {@code secret-key=value} (or {@code :}) masked: the last guard before anything is printed.
     */
    public static String redactText(String text) {
        if (text == null) {
            return null;
        }
        Matcher m = ASSIGNMENT.matcher(redactUris(text));
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String replacement = isSecretKey(m.group(1)) && !m.group(3).isEmpty() && !m.group(3).startsWith(MASK)
                    ? m.group(1) + m.group(2) + MASK
                    : m.group();
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }
}
