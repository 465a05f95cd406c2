package io.advspark.round;

import io.advspark.data.Storage;
import io.advspark.util.Version;
import io.advspark.vocabulary.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A round opened for writing: its lease held, its folder checked to be an advspark round (the
 * marker) or empty (then marked), and, with {@code --force}, its outputs cleared. Every write and
 * delete goes through {@link #storage()}, fenced to the round folder.
 */
public final class RoundGuard implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RoundGuard.class);

    private final Storage storage;
    private final RoundLayout layout;
    private final RoundLease lease;

    private RoundGuard(Storage storage, RoundLayout layout, RoundLease lease) {
        this.storage = storage;
        this.layout = layout;
        this.lease = lease;
    }

    /** How a command opens a round. */
    public record Options(String command, Duration leaseTtl, boolean takeOver, boolean force, boolean create) {}

    /**
     * Opens the round: takes its lease, then checks its folder. {@code create} marks an empty (or
     * new) folder as a round; without it (evaluate) the folder must be a marked round already.
     */
    public static RoundGuard open(Storage unfenced, RoundLayout layout, String roundId, Options o) {
        Storage storage = unfenced.fencedTo(layout.root());
        if (!o.create()) {
            // Before the lease, whose file would create the folder of a round that does not exist.
            try {
                if (!storage.exists(layout.marker())) {
                    throw new ConfigException("no advspark round at " + layout + " (no " + RoundLayout.MARKER
                            + "): run `advspark attack` for it first");
                }
            } catch (IOException e) {
                throw new ConfigException("cannot read the round folder " + layout + ": " + e.getMessage(), e);
            }
        }
        boolean nested = RoundLease.heldHere(layout);
        RoundLease lease = RoundLease.acquire(storage, layout, roundId, o.command(), o.leaseTtl(), o.takeOver());
        try {
            checkFolder(storage, layout, roundId, o);
            if (!nested) {
                removeTemporaries(storage, layout);
            }
            if (o.force()) {
                LOG.info("advspark: --force: removed {} of {}", clear(storage, layout), layout);
            }
            return new RoundGuard(storage, layout, lease);
        } catch (RuntimeException e) {
            lease.close();
            throw e;
        }
    }

    /** Marker present, or a folder with nothing but this launcher's lease (then marked). */
    private static void checkFolder(Storage storage, RoundLayout layout, String roundId, Options o) {
        Set<String> children = new TreeSet<>();
        try {
            for (Storage.Child c : storage.listChildren(layout.root())) {
                if (!Storage.isTemporary(c.name()) && !c.name().equals(RoundLayout.LEASE)) {
                    children.add(c.name() + (c.directory() ? "/" : ""));
                }
            }
            if (!children.contains(RoundLayout.MARKER)) {
                if (!children.isEmpty()) {
                    throw new ConfigException(layout + " holds " + shown(children) + " but no advspark round marker ("
                            + RoundLayout.MARKER + "): advspark writes only into an empty folder or a round it made"
                            + " (a round of an advspark before 0.1.0 has no marker either). Choose another"
                            + " advspark.round.id or advspark.round.output, or move that folder's content away yourself");
                }
                if (!o.create()) {
                    throw new ConfigException("no advspark round at " + layout + ": run `advspark attack` for it first");
                }
                String marker = "{\n  \"round\": \"" + roundId + "\",\n  \"created\": \"" + Instant.now()
                        + "\",\n  \"advspark\": \"" + Version.VERSION + "\"\n}\n";
                storage.createIfAbsent(layout.marker(), marker.getBytes(StandardCharsets.UTF_8));
            } else if (o.force()) {
                Set<String> foreign = new TreeSet<>();
                for (String c : children) {
                    String n = c.endsWith("/") ? c.substring(0, c.length() - 1) : c;
                    if (!RoundLayout.OUTPUTS.contains(n) && !n.equals(RoundLayout.MARKER) && !n.equals(RoundLayout.CORRUPT)) {
                        foreign.add(c);
                    }
                }
                if (!foreign.isEmpty()) {
                    throw new ConfigException("--force refuses to clear " + layout + ": it holds " + shown(foreign)
                            + ", which advspark did not write. Move them out of the round folder first");
                }
            }
        } catch (IOException e) {
            throw new ConfigException("cannot read the round folder " + layout + ": " + e.getMessage(), e);
        }
    }

    /**
     * Deletes the hidden temporaries that killed writers left (a driver killed between writing a
     * PNG's temporary and renaming it). Safe only now: this launcher is the round's one writer and
     * its tasks have not started. Object stores have none (one put per file), so they are not
     * listed, which would cost a request per thousand objects.
     */
    private static void removeTemporaries(Storage storage, RoundLayout layout) {
        try {
            if (!storage.createIsAtomic(layout.root())) {
                return;
            }
            List<String> removed = storage.deleteTemporaries(layout.root());
            if (!removed.isEmpty()) {
                LOG.info("advspark: removed {} temporary file(s) that killed writers left in {}: {}", removed.size(), layout,
                        removed.size() <= 5 ? removed : removed.subList(0, 5) + " ...");
            }
        } catch (IOException e) {
            LOG.warn("advspark: could not remove leftover temporaries in {}: {}", layout, e.getMessage());
        }
    }

    private static String shown(Set<String> names) {
        List<String> l = new ArrayList<>(names);
        return l.size() <= 8 ? l.toString() : l.subList(0, 8) + " and " + (l.size() - 8) + " more";
    }

    /** {@code --force}: removes the round's outputs (never its marker, corrupt/ or anything else). */
    static List<String> clear(Storage storage, RoundLayout layout) {
        List<String> removed = new ArrayList<>();
        for (String o : RoundLayout.OUTPUTS) {
            String uri = layout.output(o);
            try {
                if (storage.delete(uri, true)) {
                    removed.add(o);
                }
            } catch (IOException e) {
                throw new ConfigException("--force: cannot delete " + Storage.redact(uri) + ": " + e.getMessage(), e);
            }
        }
        return removed;
    }

    /** The round's storage: writes and deletes fenced to the round folder. */
    public Storage storage() {
        return storage;
    }

    public RoundLayout layout() {
        return layout;
    }

    public RoundLease lease() {
        return lease;
    }

    @Override
    public void close() {
        lease.close();
    }
}
