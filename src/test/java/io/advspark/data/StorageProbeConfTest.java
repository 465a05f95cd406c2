package io.advspark.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

/** The s3a write probe of {@link ObjectStoreStorage#checkWritable} runs with bounded retries and timeouts. */
class StorageProbeConfTest {

    @Test
    void capsS3aDefaultsAndPerBucketOverridesButKeepsLowerValues() {
        Configuration conf = new Configuration(false);
        conf.set("fs.s3a.attempts.maximum", "20"); // S3A's defaults (core-default.xml, 3.3.4)
        conf.set("fs.s3a.retry.limit", "7");
        conf.set("fs.s3a.connection.establish.timeout", "1000"); // lower than the cap: kept
        conf.set("fs.s3a.connection.timeout", "0"); // 0 = no timeout at all: capped
        conf.set("fs.s3a.bucket.b1.retry.limit", "30"); // would win over the base key in S3A
        conf.set("fs.s3a.bucket.b1.attempts.maximum", "1");

        Configuration p = ObjectStoreStorage.probeConf(conf, "b1");

        assertEquals(2, p.getInt("fs.s3a.attempts.maximum", -1));
        assertEquals(1, p.getInt("fs.s3a.retry.limit", -1));
        assertEquals(1000, p.getInt("fs.s3a.connection.establish.timeout", -1));
        assertEquals(5000, p.getInt("fs.s3a.connection.timeout", -1));
        assertEquals(1, p.getInt("fs.s3a.bucket.b1.retry.limit", -1));
        assertEquals(1, p.getInt("fs.s3a.bucket.b1.attempts.maximum", -1));
        assertNull(p.get("fs.s3a.bucket.b2.retry.limit"));
        // The round's own configuration is untouched.
        assertEquals("7", conf.get("fs.s3a.retry.limit"));
        assertEquals("30", conf.get("fs.s3a.bucket.b1.retry.limit"));
    }

    @Test
    void unsetKeysGetTheCaps() {
        Configuration p = ObjectStoreStorage.probeConf(new Configuration(false), "b");
        assertEquals(2, p.getInt("fs.s3a.attempts.maximum", -1));
        assertEquals(1, p.getInt("fs.s3a.retry.limit", -1));
        assertEquals(5000, p.getInt("fs.s3a.connection.establish.timeout", -1));
        assertEquals(5000, p.getInt("fs.s3a.connection.timeout", -1));
    }
}
