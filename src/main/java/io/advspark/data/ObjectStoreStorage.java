package io.advspark.data;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Object stores through their Hadoop client ({@code s3a://}, {@code s3://}, {@code gs://},
 * {@code abfs://}, {@code abfss://}): an object is published only when its upload completes, so a
 * file is one direct put of the final key, with no temporary and no rename. Create-if-absent is a
 * check followed by a put: not atomic ({@link #createIsAtomic} is false), as hadoop-aws 3.3.4 has
 * no put-if-absent. The write probe on {@code s3a://} runs on its own client with capped retries
 * and timeouts ({@link #probeConf}).
 */
public class ObjectStoreStorage extends HadoopStorage {

    public ObjectStoreStorage(Configuration conf) {
        this(conf, null);
    }

    protected ObjectStoreStorage(Configuration conf, String fence) {
        super(conf, fence);
    }

    @Override
    public Storage fencedTo(String folder) {
        return new ObjectStoreStorage(conf, folder);
    }

    /** One put of the whole object. */
    @Override
    protected void write(String uri, byte[] bytes) throws IOException {
        Path target = new Path(uri);
        FileSystem fs = fs(target);
        try (OutputStream out = fs.create(target, true)) {
            out.write(bytes);
        }
    }

    @Override
    public boolean createIsAtomic(String uri) {
        return false;
    }

    /**
     * On {@code s3a://} the probe runs on its own, uncached client whose retries and timeouts
     * are capped (see {@link #probeConf}): with S3A's defaults (20 SDK attempts, 7 S3A retries,
     * 200 s socket timeout) a dead or mistyped endpoint took about 15 minutes to be reported.
     * The round itself keeps the configured, patient settings.
     */
    @Override
    protected FileSystem probeFileSystem(Path dir) throws IOException {
        return ownsProbeFileSystem(dir)
                ? FileSystem.newInstance(dir.toUri(), probeConf(conf, dir.toUri().getHost()))
                : super.probeFileSystem(dir);
    }

    @Override
    protected boolean ownsProbeFileSystem(Path dir) {
        return "s3a".equals(dir.toUri().getScheme());
    }

    /** Upper bounds for the s3a write probe: a few seconds per request, a handful of tries. */
    static final Map<String, Long> PROBE_LIMITS = Map.of(
            "attempts.maximum", 2L, // SDK attempts per request
            "retry.limit", 1L, // S3A retries of a failed call
            "connection.establish.timeout", 5_000L, // ms
            "connection.timeout", 5_000L); // ms, socket read

    /**
     * A copy of {@code conf} with the {@link #PROBE_LIMITS} applied to S3A's settings (lower user
     * values are kept; per-bucket overrides {@code fs.s3a.bucket.<bucket>.*} are capped too, as
     * S3A would otherwise let them win).
     */
    static Configuration probeConf(Configuration conf, String bucket) {
        Configuration c = new Configuration(conf);
        for (Map.Entry<String, Long> e : PROBE_LIMITS.entrySet()) {
            String base = "fs.s3a." + e.getKey();
            c.setLong(base, capped(c.getLong(base, e.getValue()), e));
            String perBucket = bucket == null ? null : "fs.s3a.bucket." + bucket + "." + e.getKey();
            if (perBucket != null && c.get(perBucket) != null) {
                c.setLong(perBucket, capped(c.getLong(perBucket, e.getValue()), e));
            }
        }
        return c;
    }

    private static long capped(long value, Map.Entry<String, Long> limit) {
        // A timeout of 0 means "wait forever" to the AWS SDK.
        boolean unbounded = value <= 0 && limit.getKey().endsWith("timeout");
        return unbounded ? limit.getValue() : Math.min(value, limit.getValue());
    }
}
