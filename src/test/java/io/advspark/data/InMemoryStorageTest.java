package io.advspark.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileNotFoundException;
import java.nio.file.FileAlreadyExistsException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The {@link Storage} contract on the in-memory store: the fence, whole-file commits, listings,
 * create-if-absent and rename, without a file system.
 */
class InMemoryStorageTest {
    private static final String ROUND = "mem://out/r";

    @Test
    void aFencedStorageRefusesEveryWriteOutsideItsRoundAndTouchesNothing() throws Exception {
        InMemoryStorage store = new InMemoryStorage();
        store.writeAtomically("mem://out/precious.txt", new byte[] {9});
        Storage fenced = store.fencedTo(ROUND);
        byte[] b = {1};
        for (String outside : List.of("mem://out/r2/x", "mem://out/r/../precious.txt", "mem://other/r/x", "file:/out/r/x")) {
            UriPaths.OutsideRoundException e = assertThrows(UriPaths.OutsideRoundException.class,
                    () -> fenced.writeAtomically(outside, b), outside);
            assertTrue(e.getMessage().startsWith("refusing to touch "), e.getMessage());
            assertThrows(UriPaths.OutsideRoundException.class, () -> fenced.createIfAbsent(outside, b), outside);
            assertThrows(UriPaths.OutsideRoundException.class, () -> fenced.delete(outside, true), outside);
        }
        assertThrows(UriPaths.OutsideRoundException.class, () -> fenced.rename("mem://out/precious.txt", ROUND + "/x"));
        assertThrows(UriPaths.OutsideRoundException.class, () -> fenced.rename(ROUND + "/x", "mem://out/y"));
        assertThrows(UriPaths.OutsideRoundException.class, () -> fenced.delete("mem://out", true));
        assertEquals(List.of("mem://out/precious.txt"), store.files(), "nothing written, moved or deleted");

        fenced.writeAtomically(ROUND + "/images/mi/1.png", b);
        assertArrayEquals(b, store.readAll(ROUND + "/images/mi/1.png"), "a fenced view writes to the same store");
        assertTrue(fenced.delete(ROUND + "/images", true));
    }

    @Test
    void aWriteIsVisibleWholeOrNotAtAll() throws Exception {
        InMemoryStorage store = new InMemoryStorage();
        String uri = ROUND + "/images/mi/1.png";
        assertThrows(FileNotFoundException.class, () -> store.readAll(uri));
        store.writeAtomically(uri, new byte[] {1, 2, 3});
        store.writeAtomically(uri, new byte[] {4, 5});
        assertArrayEquals(new byte[] {4, 5}, store.readAll(uri));

        store.setReadOnly(true);
        StoreWriteException e = assertThrows(StoreWriteException.class, () -> store.writeAtomically(ROUND + "/images/mi/2.png",
                new byte[] {6}));
        assertTrue(e.readOnly() && e.getMessage().equals("cannot write " + ROUND + "/images/mi/2.png: Read-only file system"),
                e.getMessage());
        assertThrows(StoreWriteException.class, () -> store.checkWritable(ROUND));
        assertArrayEquals(new byte[] {4, 5}, store.readAll(uri), "a failed write leaves the old file");
        assertFalse(store.exists(ROUND + "/images/mi/2.png"), "and no partial new one");
    }

    @Test
    void listingsSkipHiddenFilesAndFoldersAndAMissingFolderIsEmpty() throws Exception {
        InMemoryStorage store = new InMemoryStorage();
        String dir = ROUND + "/images/mi";
        store.writeAtomically(dir + "/1.png", new byte[3]);
        store.writeAtomically(dir + "/2.png", new byte[5]);
        store.writeAtomically(dir + "/._tmp.3.png.1f", new byte[1]);
        store.writeAtomically(dir + "/_SUCCESS", new byte[0]);
        store.writeAtomically(dir + "/sub/4.png", new byte[1]);
        store.writeAtomically(ROUND + "/images/mi2/5.png", new byte[1]); // a sibling sharing the prefix

        assertEquals(Map.of("1.png", 3L, "2.png", 5L), store.listFileLengths(dir));
        assertEquals(List.of("1.png", "2.png"), store.listFileNames(dir + "/"));
        assertEquals(List.of(new Storage.Child("._tmp.3.png.1f", false), new Storage.Child("1.png", false),
                new Storage.Child("2.png", false), new Storage.Child("_SUCCESS", false), new Storage.Child("sub", true)),
                store.listChildren(dir));
        List<String> all = new ArrayList<>();
        Storage.FileIterator it = store.listFiles(ROUND + "/images");
        while (it.hasNext()) {
            all.add(it.next());
        }
        assertEquals(6, all.size(), all.toString());
        assertTrue(store.exists(dir) && !store.isFile(dir) && store.isFile(dir + "/1.png"));

        String missing = ROUND + "/nothing";
        assertTrue(store.listFileLengths(missing).isEmpty() && store.listChildren(missing).isEmpty()
                && !store.listFiles(missing).hasNext() && !store.exists(missing));

        assertEquals(List.of("images/mi/._tmp.3.png.1f"), store.fencedTo(ROUND).deleteTemporaries(ROUND));
        assertFalse(store.exists(dir + "/._tmp.3.png.1f"));
    }

    @Test
    void createIfAbsentAndRenameNeverReplaceAFile() throws Exception {
        InMemoryStorage store = new InMemoryStorage();
        String lease = ROUND + "/_advspark_lease.json";
        assertTrue(store.createIsAtomic(lease));
        assertTrue(store.createIfAbsent(lease, new byte[] {1}));
        assertFalse(store.createIfAbsent(lease, new byte[] {2}), "the second creator loses");
        assertArrayEquals(new byte[] {1}, store.readAll(lease));

        String part = ROUND + "/records/attack=mi/part-1.parquet";
        String aside = ROUND + "/corrupt/records/attack=mi/corrupt-part-1.parquet";
        store.writeAtomically(part, new byte[] {7});
        store.writeAtomically(aside, new byte[] {8});
        assertThrows(FileAlreadyExistsException.class, () -> store.rename(part, aside));
        store.rename(part, aside + ".2");
        assertFalse(store.exists(part));
        assertArrayEquals(new byte[] {7}, store.readAll(aside + ".2"));
        assertArrayEquals(new byte[] {8}, store.readAll(aside));
    }
}
