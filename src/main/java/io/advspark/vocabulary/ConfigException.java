package io.advspark.vocabulary;

/** A round configuration that cannot be used; the message names the offending key or file. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
