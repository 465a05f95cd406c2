package io.advspark.round;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.advspark.data.Storage;
import io.advspark.data.UriPaths;
import io.advspark.vocabulary.ConfigException;
import io.advspark.vocabulary.Names;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The round as a unit advspark owns: names that stay plain, paths that stay inside, the marker
 * that --force requires, and the writer lease (refused while its holder lives, taken over once it
 * is gone or expired). Lease holders of other processes are real processes ({@code sleep}).
 */
class RoundGuardTest {
    private static final Storage STORAGE = Storage.of(new Configuration());
    private static final RoundGuard.Options ATTACK = new RoundGuard.Options("attack", Duration.ofSeconds(60), false, false, true);
    private static final RoundGuard.Options FORCE = new RoundGuard.Options("attack", Duration.ofSeconds(60), false, true, true);

    private static String uri(Path p) {
        return p.toUri().toString().replaceFirst("/$", "");
    }

    @Test
    void namesArePlain() {
        for (String bad : List.of(".", "..", "", "-x", ".hidden", "a/b", "a b", "x".repeat(129), "é")) {
            assertNotNull(Names.problem(bad), bad);
        }
        for (String ok : List.of("r", "0", "mi-di.eps8_steps10", "a..b", "x".repeat(128))) {
            assertNull(Names.problem(ok), ok);
        }
    }

    @Test
    void pathsOutsideTheRoundAreRefused() {
        String root = "file:/data/out/r";
        assertNull(UriPaths.problem(root, root + "/images/mi/1.png"));
        assertNull(UriPaths.problem(root, root));
        assertNotNull(UriPaths.problem(root, "file:/data/out/r2/x"), "a sibling with the same prefix");
        assertNotNull(UriPaths.problem(root, "file:/data/out/r/../precious.txt"));
        assertNotNull(UriPaths.problem(root, "file:/data/out/r/./x"));
        assertNotNull(UriPaths.problem(root, "file:/data/out"));
        assertNotNull(UriPaths.problem(root, "s3a://b/data/out/r/x"), "another file system");
        assertNotNull(UriPaths.problem("s3a://b/out/r", "s3a://c/out/r/x"), "another bucket");
        assertNotNull(UriPaths.problem("file:/data/out/..", "file:/data/out/../x"));
        RoundLayout layout = RoundLayout.of("file:/data/out", "r");
        assertThrows(UriPaths.OutsideRoundException.class, () -> layout.png("..", "1.png"));
        assertThrows(UriPaths.OutsideRoundException.class, () -> layout.png("mi", "../1.png"));
        assertThrows(IllegalArgumentException.class, () -> RoundLayout.of("file:/data/out", ".."));
        assertEquals("file:/data/out/r/corrupt/records/attack=mi/corrupt-part-1.parquet",
                layout.quarantine(layout.records("mi") + "/part-1.parquet"));
        Storage fenced = STORAGE.fencedTo("file:/data/out/r");
        UriPaths.OutsideRoundException e = assertThrows(UriPaths.OutsideRoundException.class,
                () -> fenced.delete("file:/data/out/precious.txt", true));
        assertTrue(e.getMessage().contains("outside the round folder"), e.getMessage());
    }

    @Test
    void aRoundIsMarkedAndForceClearsOnlyItsOwnOutputs(@TempDir Path tmp) throws Exception {
        Path round = tmp.resolve("r");
        RoundLayout layout = RoundLayout.at(uri(round));
        try (RoundGuard g = RoundGuard.open(STORAGE, layout, "r", ATTACK)) {
            assertTrue(Files.isRegularFile(round.resolve(RoundLayout.MARKER)), "marker written by the first open");
            assertTrue(Files.isRegularFile(round.resolve(RoundLayout.LEASE)), "lease held while open");
            Files.createDirectories(round.resolve("images/mi"));
            Files.writeString(round.resolve("images/mi/1.png"), "png");
            Files.createDirectories(round.resolve("corrupt"));
            Files.writeString(round.resolve("corrupt/corrupt-part-1.parquet"), "kept");
        }
        assertFalse(Files.exists(round.resolve(RoundLayout.LEASE)), "lease released");
        String marker = Files.readString(round.resolve(RoundLayout.MARKER));
        assertTrue(marker.contains("\"round\": \"r\"") && marker.contains("\"advspark\""), marker);

        // Foreign content in a marked round: --force refuses, naming it, and deletes nothing.
        Files.writeString(round.resolve("notes.txt"), "mine");
        ConfigException e = assertThrows(ConfigException.class, () -> RoundGuard.open(STORAGE, layout, "r", FORCE));
        assertTrue(e.getMessage().contains("notes.txt") && e.getMessage().contains("--force refuses"), e.getMessage());
        assertTrue(Files.exists(round.resolve("images/mi/1.png")));
        assertFalse(Files.exists(round.resolve(RoundLayout.LEASE)), "a refused open releases its lease");

        Files.delete(round.resolve("notes.txt"));
        RoundGuard.open(STORAGE, layout, "r", FORCE).close();
        assertFalse(Files.exists(round.resolve("images")), "outputs removed");
        assertTrue(Files.exists(round.resolve(RoundLayout.MARKER)), "marker kept");
        assertTrue(Files.exists(round.resolve("corrupt/corrupt-part-1.parquet")), "files moved aside are never deleted");
    }

    @Test
    void temporariesOfKilledWritersAreRemovedByTheNextWriter(@TempDir Path tmp) throws Exception {
        Path round = tmp.resolve("r");
        RoundLayout layout = RoundLayout.at(uri(round));
        RoundGuard.open(STORAGE, layout, "r", ATTACK).close();
        Files.createDirectories(round.resolve("images/mi"));
        Files.writeString(round.resolve("images/mi/0001.png"), "png");
        Files.writeString(round.resolve("images/mi/._tmp.0002.png.1f2e3d"), "half a png");
        Files.writeString(round.resolve("._tmp." + RoundLayout.LEASE + ".9a"), "{");
        try (RoundGuard g = RoundGuard.open(STORAGE, layout, "r", ATTACK)) {
            assertFalse(Files.exists(round.resolve("images/mi/._tmp.0002.png.1f2e3d")));
            assertFalse(Files.exists(round.resolve("._tmp." + RoundLayout.LEASE + ".9a")));
            assertTrue(Files.exists(round.resolve("images/mi/0001.png")));
        }
    }

    @Test
    void aFolderWithoutMarkerIsNeverWrittenOrCleared(@TempDir Path tmp) throws Exception {
        Path folder = tmp.resolve("t");
        Files.createDirectories(folder.resolve("images"));
        Files.writeString(folder.resolve("images/precious.txt"), "x");
        RoundLayout layout = RoundLayout.at(uri(folder));
        for (RoundGuard.Options o : List.of(ATTACK, FORCE)) {
            ConfigException e = assertThrows(ConfigException.class, () -> RoundGuard.open(STORAGE, layout, "t", o));
            assertTrue(e.getMessage().contains("no advspark round marker") && e.getMessage().contains("images/"),
                    e.getMessage());
        }
        assertEquals("x", Files.readString(folder.resolve("images/precious.txt")));
        assertFalse(Files.exists(folder.resolve(RoundLayout.MARKER)));
        assertFalse(Files.exists(folder.resolve(RoundLayout.LEASE)));
        // evaluate never creates a round, nor its folder
        Path none = tmp.resolve("none");
        ConfigException e = assertThrows(ConfigException.class, () -> RoundGuard.open(STORAGE, RoundLayout.at(uri(none)),
                "none", new RoundGuard.Options("evaluate", Duration.ofSeconds(60), false, false, false)));
        assertTrue(e.getMessage().contains("run `advspark attack`"), e.getMessage());
        assertFalse(Files.exists(none));
    }

    /** A lease file as another launcher would leave it. */
    private static void forgeLease(Path round, String host, long pid, String processStart, Instant renewed, long ttl)
            throws Exception {
        Files.createDirectories(round);
        RoundLease.Holder h = new RoundLease.Holder("other-launcher", host, pid, processStart, "attack",
                renewed.minusSeconds(5).toString(), renewed.toString(), ttl);
        Files.write(round.resolve(RoundLayout.LEASE), new ObjectMapper().writeValueAsBytes(h));
    }

    @Test
    void aLiveHolderRefusesOthersUntilItIsGone(@TempDir Path tmp) throws Exception {
        Path round = tmp.resolve("r");
        RoundLayout layout = RoundLayout.at(uri(round));
        RoundGuard.open(STORAGE, layout, "r", ATTACK).close(); // marked
        Process other = new ProcessBuilder("sleep", "120").start();
        try {
            String started = other.info().startInstant().orElseThrow().toString();
            forgeLease(round, RoundLease.host(), other.pid(), started, Instant.now(), 60);
            RoundBusyException e = assertThrows(RoundBusyException.class, () -> RoundGuard.open(STORAGE, layout, "r", FORCE));
            assertTrue(e.getMessage().contains("is in use by `advspark attack` on host " + RoundLease.host() + " (pid "
                    + other.pid() + ")") && e.getMessage().contains("--take-over") && e.getMessage().contains("last renewed"),
                    e.getMessage());
            assertTrue(Files.exists(round.resolve(RoundLayout.MARKER)), "the refused --force deleted nothing");

            // The same pid with another start time is another process: the holder is gone.
            forgeLease(round, RoundLease.host(), other.pid(), Instant.EPOCH.toString(), Instant.now(), 60);
            RoundGuard.open(STORAGE, layout, "r", ATTACK).close();

            // --take-over takes a live holder's lease.
            forgeLease(round, RoundLease.host(), other.pid(), started, Instant.now(), 60);
            try (RoundGuard g = RoundGuard.open(STORAGE, layout, "r",
                    new RoundGuard.Options("attack", Duration.ofSeconds(60), true, false, true))) {
                assertEquals(ProcessHandle.current().pid(), g.lease().holder().pid());
            }
            forgeLease(round, RoundLease.host(), other.pid(), started, Instant.now(), 60);
        } finally {
            other.destroyForcibly().waitFor();
        }
        // Its process is gone (killed, as a SIGKILLed driver): taken over at once.
        try (RoundGuard g = RoundGuard.open(STORAGE, layout, "r", ATTACK)) {
            assertEquals(ProcessHandle.current().pid(), g.lease().holder().pid());
        }
    }

    @Test
    void anotherHostsLeaseHoldsUntilItExpires(@TempDir Path tmp) throws Exception {
        Path round = tmp.resolve("r");
        RoundLayout layout = RoundLayout.at(uri(round));
        RoundGuard.open(STORAGE, layout, "r", ATTACK).close();
        forgeLease(round, "some-other-host", 12345, "", Instant.now(), 60);
        assertThrows(RoundBusyException.class, () -> RoundGuard.open(STORAGE, layout, "r", ATTACK));
        forgeLease(round, "some-other-host", 12345, "", Instant.now().minusSeconds(61), 60);
        RoundGuard.open(STORAGE, layout, "r", ATTACK).close();
    }

    @Test
    void theHolderRenewsAndNoticesWhenItLosesTheLease(@TempDir Path tmp) throws Exception {
        Path round = tmp.resolve("r");
        RoundLayout layout = RoundLayout.at(uri(round));
        try (RoundGuard g = RoundGuard.open(STORAGE, layout, "r",
                new RoundGuard.Options("attack", Duration.ofSeconds(4), false, false, true))) {
            String first = g.lease().holder().renewed();
            java.util.concurrent.CountDownLatch lost = new java.util.concurrent.CountDownLatch(1);
            g.lease().onLost(lost::countDown);
            Thread.sleep(1500);
            assertTrue(Instant.parse(g.lease().holder().renewed()).isAfter(Instant.parse(first)), "renewed");
            // Re-entrant in one JVM: evaluate after attack in one command.
            try (RoundGuard inner = RoundGuard.open(STORAGE, layout, "r", ATTACK)) {
                assertEquals(g.lease(), inner.lease());
            }
            assertTrue(Files.exists(round.resolve(RoundLayout.LEASE)), "still held by the outer open");
            forgeLease(round, "some-other-host", 1, "", Instant.now(), 60); // a take-over by someone else
            assertTrue(lost.await(5, java.util.concurrent.TimeUnit.SECONDS), "loss noticed at the next renewal");
            assertTrue(g.lease().lost());
            assertThrows(RoundBusyException.class, () -> g.lease().check());
        }
        assertTrue(Files.readString(round.resolve(RoundLayout.LEASE)).contains("some-other-host"),
                "a lost lease is not deleted on release");
    }
}
