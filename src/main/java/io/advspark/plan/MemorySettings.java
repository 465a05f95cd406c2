package io.advspark.plan;

/**
 * The round's memory check ({@code advspark.memory}): what the driver does when an attack
 * configuration's estimated memory per executor ({@link MemoryEstimate}) is too large.
 *
 * @param check {@code refuse} (the default: above 100% the round fails before any work, naming
 *     the configuration and what to lower), {@code warn} (log a warning and run anyway: the
 *     override when the estimate is wrong for a setup) or {@code off} (no probe, no estimate)
 * @param warnFraction warn above this share of the available memory ({@code memory.warn-fraction})
 * @param availableBytes memory per executor to compare with instead of the detected one, 0 to
 *     detect it ({@code memory.available})
 */
public record MemorySettings(Check check, double warnFraction, long availableBytes) implements java.io.Serializable {

    /** What happens above 100%. */
    public enum Check {
        REFUSE,
        WARN,
        OFF
    }

    /** The defaults of reference.conf. */
    public static final MemorySettings DEFAULT = new MemorySettings(Check.REFUSE, 0.7, 0);

    public MemorySettings {
        if (!(warnFraction > 0 && warnFraction <= 1)) {
            throw new IllegalArgumentException("memory.warn-fraction must be in (0, 1], got " + warnFraction);
        }
        if (availableBytes < 0) {
            throw new IllegalArgumentException("memory.available must be >= 0, got " + availableBytes);
        }
    }
}
