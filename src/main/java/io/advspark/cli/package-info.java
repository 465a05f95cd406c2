/**
 * The launcher: picocli commands ({@link io.advspark.cli.Main}), exit codes (2 configuration,
 * 3 write failure, 4 round busy), the one-line report of a write failure and the log file.
 *
 * <p>The top layer: it may use every package. A new command is a nested class of {@code Main}
 * that loads the plan with the shared round options and calls one job.
 */
package io.advspark.cli;
