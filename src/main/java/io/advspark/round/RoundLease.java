package io.advspark.round;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.advspark.data.Storage;
import io.advspark.vocabulary.ConfigException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One writer per round: a launcher holds {@code <round>/_advspark_lease.json} while it writes,
 * renewing it every quarter of its time to live. A second launcher is refused at once, naming the
 * holder. A lease is taken over when it is stale: its holder's process is gone (same host: checked
 * by process id and start time, so a killed driver's rerun resumes at once), its last renewal is
 * older than its time to live (another host), or the user says so ({@code --take-over}).
 *
 * <p>Creation uses the store's create-if-absent ({@link Storage#createIfAbsent}): atomic on local
 * files and HDFS. On object stores it is a check then a put, so every acquisition and take-over
 * reads the lease back after a short settle time and gives way if another holder's lease is there;
 * a holder that finds another's lease at renewal has lost it, and {@link #lost()} turns true (the
 * round then stops). Leases are re-entrant within one JVM (attack then evaluate in one command).
 */
public final class RoundLease implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RoundLease.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Leases this JVM holds, by lease URI, for re-entry. */
    private static final Map<String, RoundLease> HELD = new ConcurrentHashMap<>();
    /** Time for a concurrent put to an object store to land before the lease is read back. */
    static final Duration SETTLE = Duration.ofMillis(500);

    /** What the lease file holds. Times are ISO-8601 instants. */
    public record Holder(String id, String host, long pid, String processStart, String command, String started,
            String renewed, long ttlSeconds) {
        Instant renewedAt() {
            return Instant.parse(renewed);
        }

        String describe(Instant now) {
            long ago = Duration.between(renewedAt(), now).toSeconds();
            return "`advspark " + command + "` on host " + host + " (pid " + pid + "), started " + started
                    + ", last renewed " + renewed + " (" + ago + " s ago; it expires " + ttlSeconds
                    + " s after its last renewal)";
        }
    }

    private final Storage storage;
    private final String uri;
    private final String roundId;
    private Holder holder;
    private int entries = 1;
    private volatile boolean lost;
    private volatile String lostTo;
    private ScheduledExecutorService renewer;
    private volatile Runnable onLost = () -> {};

    private RoundLease(Storage storage, String uri, String roundId, Holder holder) {
        this.storage = storage;
        this.uri = uri;
        this.roundId = roundId;
        this.holder = holder;
    }

    /**
     * Takes the round's lease for {@code command}, or fails with a {@link RoundBusyException}
     * naming the holder. {@code takeOver} takes a live holder's lease (the user knows it is dead).
     */
    public static RoundLease acquire(Storage storage, RoundLayout layout, String roundId, String command,
            Duration ttl, boolean takeOver) {
        String uri = layout.lease();
        synchronized (HELD) {
            RoundLease mine = HELD.get(uri);
            if (mine != null) {
                mine.entries++;
                return mine;
            }
            RoundLease lease = new RoundLease(storage, uri, roundId, null);
            lease.take(command, ttl, takeOver);
            HELD.put(uri, lease);
            lease.startRenewing(ttl);
            return lease;
        }
    }

    /** Whether this JVM holds the lease of {@code layout}'s round already (a nested open). */
    public static boolean heldHere(RoundLayout layout) {
        return HELD.containsKey(layout.lease());
    }

    private void take(String command, Duration ttl, boolean takeOver) {
        Instant now = Instant.now();
        ProcessHandle self = ProcessHandle.current();
        Holder me = new Holder(UUID.randomUUID().toString(), host(), self.pid(),
                self.info().startInstant().map(Instant::toString).orElse(""), command, now.toString(), now.toString(),
                ttl.toSeconds());
        try {
            boolean atomic = storage.createIsAtomic(uri);
            for (int attempt = 0; attempt < 3; attempt++) {
                if (storage.createIfAbsent(uri, bytes(me))) {
                    holder = me;
                    if (!atomic) {
                        confirm(me);
                    }
                    return;
                }
                Optional<Holder> other = read();
                if (other.isEmpty()) {
                    continue; // released (or unreadable and replaced) meanwhile: try again
                }
                Holder h = other.get();
                String stale = staleness(h, Instant.now());
                if (stale == null && !takeOver) {
                    throw new RoundBusyException("round " + roundId + " is in use by " + h.describe(Instant.now())
                            + ". Two launchers on one round would mix or delete each other's work. If that run is dead,"
                            + " rerun with --take-over, or wait until its lease expires ("
                            + h.renewedAt().plusSeconds(h.ttlSeconds()) + ")");
                }
                LOG.warn("advspark: taking over the lease of round {} from {}: {}", roundId, h.describe(Instant.now()),
                        stale == null ? "--take-over" : stale);
                // Replace the stale lease, then make sure no concurrent taker replaced ours.
                storage.writeAtomically(uri, bytes(me));
                holder = me;
                confirm(me);
                return;
            }
            throw new RoundBusyException("round " + roundId + ": could not take the lease " + Storage.redact(uri)
                    + " (it kept changing); retry");
        } catch (IOException e) {
            throw new io.advspark.vocabulary.ConfigException("cannot take the lease " + Storage.redact(uri) + " of round "
                    + roundId + ": " + e.getMessage(), e);
        }
    }

    /** After a non-atomic acquisition: wait for a concurrent put to land, then check that ours stands. */
    private void confirm(Holder me) throws IOException {
        try {
            Thread.sleep(SETTLE.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Optional<Holder> now = read();
        if (now.isPresent() && !now.get().id().equals(me.id())) {
            holder = null;
            // Two launchers passed the store's existence check together (object stores): the last put stands.
            throw new RoundBusyException("round " + roundId + " is in use by " + now.get().describe(Instant.now())
                    + ", which took the lease at the same moment as this launcher: this one gives way. If that run is"
                    + " dead, rerun with --take-over");
        }
    }

    /** Why a lease may be taken over without asking, or null while its holder may be alive. */
    static String staleness(Holder h, Instant now) {
        if (h.host().equals(host())) {
            Optional<ProcessHandle> p = ProcessHandle.of(h.pid());
            boolean alive = p.isPresent() && p.get().isAlive()
                    && (h.processStart().isEmpty()
                            || p.get().info().startInstant().map(Instant::toString).orElse("").equals(h.processStart()));
            if (!alive) {
                return "its process " + h.pid() + " on this host is gone";
            }
        }
        if (h.renewedAt().plusSeconds(h.ttlSeconds()).isBefore(now)) {
            return "it expired at " + h.renewedAt().plusSeconds(h.ttlSeconds());
        }
        return null;
    }

    /** The lease now on storage; empty if there is none. A half-written one is read again. */
    Optional<Holder> read() throws IOException {
        for (int i = 0; ; i++) {
            byte[] b;
            try {
                b = storage.readAll(uri);
            } catch (FileNotFoundException e) {
                return Optional.empty();
            }
            try {
                return Optional.of(JSON.readValue(b, Holder.class));
            } catch (IOException e) {
                if (i >= 5) {
                    LOG.warn("advspark: the lease {} is unreadable ({}); treating it as stale", Storage.redact(uri),
                            e.getMessage());
                    return Optional.of(new Holder("unreadable", "unknown", -1, "", "unknown", Instant.EPOCH.toString(),
                            Instant.EPOCH.toString(), 0));
                }
                sleep(100);
            }
        }
    }

    private void startRenewing(Duration ttl) {
        long every = Math.max(1, ttl.toMillis() / 4);
        renewer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "advspark-lease-" + roundId);
            t.setDaemon(true);
            return t;
        });
        renewer.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
    }

    private void renew() {
        try {
            Optional<Holder> now = read();
            if (now.isEmpty() || !now.get().id().equals(holder.id())) {
                lostTo = now.map(h -> h.describe(Instant.now())).orElse("nobody (the lease file was deleted)");
                lost = true;
                LOG.error("advspark: round {}: this launcher lost its lease to {}; stopping", roundId, lostTo);
                renewer.shutdown();
                onLost.run();
                return;
            }
            holder = new Holder(holder.id(), holder.host(), holder.pid(), holder.processStart(), holder.command(),
                    holder.started(), Instant.now().toString(), holder.ttlSeconds());
            storage.writeAtomically(uri, bytes(holder));
        } catch (IOException | RuntimeException e) {
            // A passing store error: the next renewal tries again, long before the lease expires.
            LOG.warn("advspark: round {}: could not renew the lease {}: {}", roundId, Storage.redact(uri), e.getMessage());
        }
    }

    /** Whether another launcher took this lease over: the round must stop writing. */
    public boolean lost() {
        return lost;
    }

    /** What to do when the lease is lost (e.g. cancel the round's Spark jobs). */
    public void onLost(Runnable action) {
        this.onLost = action;
    }

    /** Throws if the lease was lost. */
    public void check() {
        if (lost) {
            throw new RoundBusyException("round " + roundId + ": this launcher lost its lease to " + lostTo
                    + " and stopped");
        }
    }

    public Holder holder() {
        return holder;
    }

    /** Releases the lease (the last of re-entrant holds): stops renewing and removes the file if still ours. */
    @Override
    public void close() {
        synchronized (HELD) {
            if (--entries > 0) {
                return;
            }
            HELD.remove(uri);
        }
        renewer.shutdownNow();
        try {
            renewer.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (lost || holder == null) {
            return;
        }
        try {
            Optional<Holder> now = read();
            if (now.isPresent() && now.get().id().equals(holder.id())) {
                storage.delete(uri, false);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("advspark: round {}: could not release the lease {} ({}); it expires by itself", roundId,
                    Storage.redact(uri), e.getMessage());
        }
    }

    private static byte[] bytes(Holder h) throws IOException {
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(h).getBytes(StandardCharsets.UTF_8);
    }

    static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return Optional.ofNullable(System.getenv("HOSTNAME")).orElse("unknown-host");
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
