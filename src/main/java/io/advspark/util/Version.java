package io.advspark.util;

/** advspark's version, as the CLI prints it and round markers record it. */
public final class Version {
    public static final String VERSION = "0.1.0";

    private Version() {}
}
