package io.advspark.job;

import java.util.Locale;

/**
 * What a finished round reports on the terminal.
 *
 * @param roundUri where the outputs are
 * @param images manifest rows processed
 * @param failed rows recorded with an error
 * @param untargetedSuccessRate over attacked images
 * @param targetedSuccessRate over attacked images
 * @param meanL2 mean L2 of the written perturbation, 0..255 units
 * @param maxLinf max L-inf of the written perturbation, 0..255 units
 * @param seconds wall time of the round (after start-up)
 */
public record RoundSummary(
        String roundUri,
        long images,
        long failed,
        double untargetedSuccessRate,
        double targetedSuccessRate,
        double meanL2,
        int maxLinf,
        double seconds) {

    public String render() {
        long attacked = images - failed;
        return String.format(Locale.ROOT,
                "advspark round finished%n"
                        + "  images       %d attacked, %d failed (see the error column)%n"
                        + "  success      untargeted %.1f%%, targeted %.1f%%%n"
                        + "  perturbation mean L2 %.1f, max L-inf %d (0..255)%n"
                        + "  time         %.1f s (%.2f images/s)%n"
                        + "  images       %s/images/%n"
                        + "  records      %s/records (Parquet)",
                attacked, failed, 100 * untargetedSuccessRate, 100 * targetedSuccessRate, meanL2, maxLinf,
                seconds, attacked / Math.max(seconds, 1e-9), roundUri, roundUri);
    }
}
