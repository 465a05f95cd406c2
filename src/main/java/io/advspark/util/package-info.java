/**
 * Small helpers every layer may use and that use nothing of advspark: first lines of messages,
 * this process's resident memory (/proc),
 * masking of secrets in anything printed, fingerprints (SHA-256, CRC32C), the build's version.
 *
 * <p>Something belongs here only if it is independent of images, models and Spark; otherwise it
 * goes to the lowest package that needs it.
 */
package io.advspark.util;
