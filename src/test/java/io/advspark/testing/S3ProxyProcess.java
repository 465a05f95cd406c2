package io.advspark.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;

/**
 * s3proxy ({@link S3ProxyServer}, transient in-memory store) in its own JVM, started from this
 * JVM's classpath, for tests whose clients live in other JVMs (a Spark cluster's executors).
 * Random credentials, a free port checked before the start, stopped by its PID in {@link #close()}
 * (it also ends by itself when this JVM dies: it watches its standard input).
 */
public final class S3ProxyProcess implements AutoCloseable {
    private final JvmDaemon daemon;
    private final int port;
    private final String bucket;
    private final String accessKey;
    private final String secretKey;

    private S3ProxyProcess(JvmDaemon daemon, int port, String bucket, String accessKey, String secretKey) {
        this.daemon = daemon;
        this.port = port;
        this.bucket = bucket;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
    }

    /**
     * Starts the server with {@code bucket} on a free loopback port; its log and temp folder go
     * under {@code dir}. Waits up to 60 s for it to serve.
     */
    public static S3ProxyProcess start(Path dir, String bucket) throws Exception {
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        int port = S3ProxyServer.freePort();
        if (!S3ProxyServer.isPortFree(port)) {
            throw new IllegalStateException("s3proxy: port " + port + " was taken between choosing and checking it");
        }
        String access = S3ProxyServer.randomString("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 20);
        String secret = S3ProxyServer.randomString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 40);
        List<String> cmd = new ArrayList<>(List.of(JvmDaemon.java(), "-Xmx384m", "-Djava.io.tmpdir=" + tmp,
                "-cp", System.getProperty("java.class.path"), S3ProxyServer.class.getName(),
                Integer.toString(port), bucket));
        JvmDaemon d = JvmDaemon.start("s3proxy", cmd, Map.of("S3PROXY_ACCESS_KEY", access, "S3PROXY_SECRET_KEY", secret),
                dir, dir.resolve("s3proxy.log"));
        try {
            d.awaitLine(Pattern.compile(Pattern.quote(S3ProxyServer.READY) + " http://127\\.0\\.0\\.1:" + port + " "), 60);
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
        return new S3ProxyProcess(d, port, bucket, access, secret);
    }

    public long pid() {
        return daemon.pid();
    }

    public int port() {
        return port;
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    public String bucket() {
        return bucket;
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    public JvmDaemon daemon() {
        return daemon;
    }

    /** Spark properties of an s3a client of this server, credentials included (for this JVM only). */
    public Map<String, String> s3aSettings() {
        return S3ProxyServer.s3aSettings(endpoint(), accessKey, secretKey);
    }

    /** The same as a Hadoop configuration, for reading the store with FileSystem. */
    public Configuration hadoopConf() {
        Configuration c = new Configuration();
        s3aSettings().forEach((k, v) -> c.set(k.substring("spark.hadoop.".length()), v));
        return c;
    }

    @Override
    public void close() {
        daemon.close();
    }
}
