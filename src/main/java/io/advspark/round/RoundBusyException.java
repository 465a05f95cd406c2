package io.advspark.round;

import io.advspark.vocabulary.ConfigException;

/** Another launcher holds the round's writer lease; the message names it and the way to take over. */
public final class RoundBusyException extends ConfigException {
    public RoundBusyException(String message) {
        super(message);
    }
}
