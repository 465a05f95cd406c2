package io.advspark.round;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.data.InMemoryStorage;
import io.advspark.data.Storage;
import io.advspark.vocabulary.ConfigException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The marker, the lease, --force and temporaries, on the in-memory store: the guard needs only {@link Storage}. */
class RoundGuardInMemoryTest {
    private static final RoundGuard.Options ATTACK = new RoundGuard.Options("attack", Duration.ofSeconds(60), false, false, true);
    private static final RoundGuard.Options FORCE = new RoundGuard.Options("attack", Duration.ofSeconds(60), false, true, true);

    @Test
    void aRoundIsMarkedLeasedAndForceClearsOnlyItsOwnOutputs() throws Exception {
        InMemoryStorage store = new InMemoryStorage();
        RoundLayout layout = RoundLayout.of("mem://out", "r");
        try (RoundGuard g = RoundGuard.open(store, layout, "r", ATTACK)) {
            assertTrue(store.isFile(layout.marker()) && store.isFile(layout.root() + "/" + RoundLayout.LEASE));
            g.storage().writeAtomically(layout.png("mi", "1.png"), new byte[] {1});
            g.storage().writeAtomically(layout.root() + "/images/mi/._tmp.2.png.1f", new byte[] {2}); // a killed writer's
            assertThrows(io.advspark.data.UriPaths.OutsideRoundException.class,
                    () -> g.storage().writeAtomically("mem://out/r2/x", new byte[] {1}), "the guard's storage is fenced");
        }
        assertFalse(store.exists(layout.root() + "/" + RoundLayout.LEASE), "lease released");
        String marker = new String(store.readAll(layout.marker()), StandardCharsets.UTF_8);
        assertTrue(marker.contains("\"round\": \"r\""), marker);

        RoundGuard.open(store, layout, "r", ATTACK).close();
        assertFalse(store.exists(layout.root() + "/images/mi/._tmp.2.png.1f"), "temporaries removed by the next writer");
        assertTrue(store.exists(layout.png("mi", "1.png")));

        store.writeAtomically(layout.root() + "/notes.txt", new byte[] {1});
        ConfigException e = assertThrows(ConfigException.class, () -> RoundGuard.open(store, layout, "r", FORCE));
        assertTrue(e.getMessage().contains("notes.txt") && e.getMessage().contains("--force refuses"), e.getMessage());
        store.delete(layout.root() + "/notes.txt", false);
        RoundGuard.open(store, layout, "r", FORCE).close();
        assertFalse(store.exists(layout.root() + "/images"), "outputs removed");
        assertTrue(store.exists(layout.marker()), "marker kept");
    }

    @Test
    void aFolderWithContentButNoMarkerIsRefused() throws Exception {
        InMemoryStorage store = new InMemoryStorage();
        RoundLayout layout = RoundLayout.of("mem://out", "t");
        store.writeAtomically(layout.root() + "/mine.txt", new byte[] {1});
        ConfigException e = assertThrows(ConfigException.class, () -> RoundGuard.open(store, layout, "t", ATTACK));
        assertTrue(e.getMessage().contains("mine.txt"), e.getMessage());
        assertEquals(java.util.List.of(layout.root() + "/mine.txt"), store.files(), "nothing written");
    }
}
