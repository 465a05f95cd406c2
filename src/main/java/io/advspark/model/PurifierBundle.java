package io.advspark.model;

/**
 * A purifier (an image-to-image TorchScript model of a defense chain's {@code purify} stage) as
 * shipped to executors: its bytes, checked on the driver by {@link ModelLoader#loadPurifier}.
 *
 * @param uri where the file was read from (the key the chain names it by, and for messages)
 * @param torchScript the file's bytes
 * @param sha256 SHA-256 (hex) of the bytes
 */
public record PurifierBundle(String uri, byte[] torchScript, String sha256) implements java.io.Serializable {}
