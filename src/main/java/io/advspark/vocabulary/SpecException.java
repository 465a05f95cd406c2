package io.advspark.vocabulary;

/** An attack part spec that does not parse or whose parameters are invalid; names the spec. */
public class SpecException extends IllegalArgumentException {
    public SpecException(String message) {
        super(message);
    }
}
