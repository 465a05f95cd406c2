package io.advspark.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Appends measured numbers to target/test-reports/*.md so a CI log and a closing note can cite them. */
public final class Report {
    private Report() {}

    public static synchronized void append(String file, String line) {
        try {
            Path p = Path.of("target", "test-reports", file);
            Files.createDirectories(p.getParent());
            Files.writeString(p, line + System.lineSeparator(), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            System.out.println("[report " + file + "] " + line);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
