package io.advspark.job;

import io.advspark.data.ManifestRow;
import java.util.List;

/**
 * One manifest row of a round's work list and the attacks (by name, in configuration order)
 * still to run on it: a resumed round leaves out what is committed.
 */
public record WorkItem(ManifestRow row, List<String> attacks) implements java.io.Serializable {
    public WorkItem {
        attacks = List.copyOf(attacks);
    }
}
