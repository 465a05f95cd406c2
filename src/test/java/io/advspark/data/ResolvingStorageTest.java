package io.advspark.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Storage#of}: one implementation per scheme; the fence is checked before a URI is resolved. */
class ResolvingStorageTest {
    private final ResolvingStorage storage = new ResolvingStorage(new Configuration());

    @Test
    void eachSchemeGoesToItsImplementation(@TempDir Path dir) throws Exception {
        assertEquals("LocalStorage", storage.implementationFor(dir.toUri().toString()));
        assertEquals("LocalStorage", storage.implementationFor(dir.toString()), "a plain path on a local default file system");
        for (String s : new String[] {"s3a://bucket/out", "s3://bucket/out", "gs://bucket/out", "abfss://c@acct/out"}) {
            assertEquals("ObjectStoreStorage", storage.implementationFor(s), s);
        }
        assertEquals("HadoopStorage", storage.implementationFor("nosuchscheme://host/out"),
                "not resolvable: the rename-commit implementation, which fails as Hadoop does");
        assertTrue(storage.createIsAtomic(dir.toUri().toString()));
        assertFalse(storage.createIsAtomic("s3a://bucket/out/_advspark_lease.json"));
    }

    @Test
    void aWriteOutsideTheFenceIsRefusedBeforeItsStoreIsResolved() {
        Storage fenced = storage.fencedTo("file:/data/out/r");
        UriPaths.OutsideRoundException e = assertThrows(UriPaths.OutsideRoundException.class,
                () -> fenced.writeAtomically("nosuchscheme://host/out/r/x", new byte[] {1}));
        assertTrue(e.getMessage().contains("another file system than the round's"), e.getMessage());
        assertThrows(UriPaths.OutsideRoundException.class, () -> fenced.delete("file:/data/out/x", false));
    }
}
