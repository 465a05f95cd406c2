package io.advspark.testing;

import io.advspark.vocabulary.Names;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.blobstore.domain.PageSet;
import org.jclouds.blobstore.domain.StorageMetadata;
import org.jclouds.blobstore.domain.StorageType;
import org.jclouds.blobstore.options.ListContainerOptions;

/**
 * A real S3 API server (s3proxy 3.0.0) in this JVM on 127.0.0.1, for tests that go through
 * {@code s3a://}.
 *
 * <p>The backing store is jclouds' {@code transient} (in-memory) blobstore: s3proxy's
 * {@code filesystem} store makes S3A's directory-marker deletes take seconds per key, and the
 * {@code *-nio2} stores answer HTTP 500 on directory renames (see platform.md, "Object
 * storage"). The store outlives {@link #stop()}: {@link #start()} serves the same objects
 * again on the same port, so a test can take the endpoint away mid-round and bring it back.
 *
 * <p>Identity and credential are invented per instance (random, or given) and the server checks
 * AWS V2 or V4 signatures against them. Clients get them through {@link #s3aSettings()} as
 * Spark properties, never through a round file.
 *
 * <pre>{@code
 * try (S3ProxyServer s3 = S3ProxyServer.start("rounds-bucket")) {
 *     SparkSession spark = Sessions.create(cfg, "local[2]", s3.s3aSettings());
 *     ... "s3a://" + s3.bucket() + "/rounds" ...
 * }
 * }</pre>
 */
public final class S3ProxyServer implements AutoCloseable {
    /** Region S3A signs for; s3proxy accepts any, but S3A must not try to look one up. */
    public static final String REGION = "us-east-1";

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private static final String SECRET_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private final int port;
    private final String bucket;
    private final String accessKey;
    private final String secretKey;
    private final BlobStoreContext context;
    private S3Proxy proxy;

    private S3ProxyServer(int port, String bucket, String accessKey, String secretKey) {
        this.port = port;
        this.bucket = bucket;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
        // The transient store's own credentials are irrelevant (nothing to log in to).
        this.context = ContextBuilder.newBuilder("transient")
                .credentials("unused", "unused")
                .build(BlobStoreContext.class);
    }

    /** Starts a server on a free loopback port with random credentials and creates {@code bucket}. */
    public static S3ProxyServer start(String bucket) {
        return start(bucket, randomString(ALNUM, 20), randomString(SECRET_CHARS, 40));
    }

    /** Starts a server on a free loopback port with the given credentials and creates {@code bucket}. */
    public static S3ProxyServer start(String bucket, String accessKey, String secretKey) {
        return startOnPort(freePort(), bucket, accessKey, secretKey);
    }

    /**
     * Starts a server on 127.0.0.1:{@code port} and creates {@code bucket}.
     *
     * @throws IllegalStateException naming the port if it is taken or the server does not come up
     */
    public static S3ProxyServer startOnPort(int port, String bucket, String accessKey, String secretKey) {
        S3ProxyServer s = new S3ProxyServer(port, bucket, accessKey, secretKey);
        try {
            s.start();
            s.createBucket(bucket);
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /**
     * (Re)starts serving on this server's port. The objects stored before a {@link #stop()} are
     * still there.
     *
     * @throws IllegalStateException if the port is taken or the server does not come up
     */
    public synchronized void start() {
        if (proxy != null) {
            return;
        }
        if (!isPortFree(port)) {
            throw new IllegalStateException(
                    "s3proxy cannot start: 127.0.0.1:" + port + " is already in use by another process");
        }
        S3Proxy p = S3Proxy.builder()
                .blobStore(context.getBlobStore())
                .endpoint(URI.create("http://127.0.0.1:" + port))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                .build();
        try {
            p.start();
        } catch (Exception e) {
            stopQuietly(p);
            throw new IllegalStateException("s3proxy failed to start on 127.0.0.1:" + port + ": " + e, e);
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!"STARTED".equals(p.getState()) && System.nanoTime() < deadline) {
            sleep(20);
        }
        if (!"STARTED".equals(p.getState()) || !isListening(port)) {
            String state = p.getState();
            stopQuietly(p);
            throw new IllegalStateException(
                    "s3proxy did not start on 127.0.0.1:" + port + " within 10 s (state " + state + ")");
        }
        proxy = p;
    }

    /** Stops serving (connections are refused afterwards); the stored objects are kept. */
    public synchronized void stop() {
        if (proxy == null) {
            return;
        }
        S3Proxy p = proxy;
        proxy = null;
        try {
            p.stop();
        } catch (Exception e) {
            throw new IllegalStateException("s3proxy on 127.0.0.1:" + port + " did not stop: " + e, e);
        }
    }

    public synchronized boolean isRunning() {
        return proxy != null;
    }

    /** Creates a further bucket (no-op if it exists). */
    public void createBucket(String name) {
        context.getBlobStore().createContainerInLocation(null, name);
    }

    @Override
    public void close() {
        try {
            stop();
        } finally {
            context.close();
        }
    }

    public int port() {
        return port;
    }

    /** {@code http://127.0.0.1:<port>} */
    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    public String bucket() {
        return bucket;
    }

    /** {@code s3a://<bucket>/<path>} */
    public String uri(String path) {
        return "s3a://" + bucket + "/" + (path.startsWith("/") ? path.substring(1) : path);
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    /** The server's store, for looking at objects without going through Hadoop or HTTP. */
    public BlobStore blobStore() {
        return context.getBlobStore();
    }

    /** Names of all blobs in a bucket, read from the store itself (not through S3A). */
    public List<String> listKeys(String container) {
        List<String> keys = new ArrayList<>();
        ListContainerOptions options = ListContainerOptions.Builder.recursive();
        while (true) {
            PageSet<? extends StorageMetadata> page = blobStore().list(container, options);
            for (StorageMetadata m : page) {
                if (m.getType() == StorageType.BLOB) {
                    keys.add(m.getName());
                }
            }
            if (page.getNextMarker() == null) {
                return keys;
            }
            options = ListContainerOptions.Builder.recursive().afterMarker(page.getNextMarker());
        }
    }

    /** Spark properties for an s3a client of this server, credentials included. */
    public Map<String, String> s3aSettings() {
        return s3aSettings(endpoint(), accessKey, secretKey);
    }

    /**
     * Spark properties ({@code spark.hadoop.fs.s3a.*}) for an s3a client of {@code endpoint},
     * with retry limits and timeouts low enough for tests: a dead endpoint fails in seconds,
     * not minutes.
     */
    public static Map<String, String> s3aSettings(String endpoint, String accessKey, String secretKey) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("fs.s3a.endpoint", endpoint);
        h.put("fs.s3a.endpoint.region", REGION);
        h.put("fs.s3a.path.style.access", "true");
        h.put("fs.s3a.connection.ssl.enabled", "false");
        h.put("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        h.put("fs.s3a.access.key", accessKey);
        h.put("fs.s3a.secret.key", secretKey);
        h.put("fs.s3a.directory.marker.retention", "keep");
        // Test-sized patience: SDK attempts per request, S3A retries of a translated failure.
        h.put("fs.s3a.attempts.maximum", "2");
        h.put("fs.s3a.retry.limit", "2");
        h.put("fs.s3a.retry.interval", "100ms");
        h.put("fs.s3a.retry.throttle.limit", "2");
        h.put("fs.s3a.retry.throttle.interval", "100ms");
        h.put("fs.s3a.connection.establish.timeout", "2000");
        h.put("fs.s3a.connection.timeout", "10000");
        Map<String, String> spark = new LinkedHashMap<>();
        h.forEach((k, v) -> spark.put("spark.hadoop." + k, v));
        return spark;
    }

    /**
     * The same client settings as a Hadoop configuration (keys without {@code spark.hadoop.}),
     * for reading and writing the store without Spark.
     */
    public Configuration hadoopConf() {
        Configuration c = new Configuration();
        s3aSettings().forEach((k, v) -> c.set(k.substring("spark.hadoop.".length()), v));
        return c;
    }

    /** Printed on standard output by {@link #main} once the server answers. */
    public static final String READY = "s3proxy ready:";

    /**
     * Runs a server as its own JVM (see {@code S3ProxyProcess}):
     * {@code java -cp <test classpath> io.advspark.testing.S3ProxyServer PORT BUCKET}, with the
     * credentials in the environment ({@code S3PROXY_ACCESS_KEY}, {@code S3PROXY_SECRET_KEY}) so
     * that they never show in a process list. Prints {@value #READY} and the endpoint when it
     * serves, then runs until it is killed or its standard input ends: a parent that dies without
     * stopping it (its end of the pipe closes) does not leave it behind.
     */
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: S3ProxyServer PORT BUCKET (env S3PROXY_ACCESS_KEY, S3PROXY_SECRET_KEY)");
            System.exit(2);
        }
        String access = System.getenv("S3PROXY_ACCESS_KEY");
        String secret = System.getenv("S3PROXY_SECRET_KEY");
        if (access == null || secret == null) {
            System.err.println("S3PROXY_ACCESS_KEY and S3PROXY_SECRET_KEY must be set");
            System.exit(2);
        }
        S3ProxyServer s = startOnPort(Integer.parseInt(args[0]), args[1], access, secret);
        Runtime.getRuntime().addShutdownHook(new Thread(s::close, "s3proxy-stop"));
        System.out.println(READY + " " + s.endpoint() + " bucket " + s.bucket());
        System.out.flush();
        while (System.in.read() >= 0) {
            // the parent never writes: wait for the end of the pipe
        }
        System.exit(0);
    }

    /** A port on 127.0.0.1 that nothing listens on right now. */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port on 127.0.0.1: " + e, e);
        }
    }

    static boolean isPortFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            // Like Jetty: connections of a previous run in TIME_WAIT must not count as "in use".
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static boolean isListening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A random bucket name (S3 rules: lower case, digits, '-'). */
    public static String randomBucket(String prefix) {
        return prefix + "-" + randomString(ALNUM, 10).toLowerCase(Locale.ROOT);
    }

    public static String randomString(String alphabet, int n) {
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            b.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    private static void stopQuietly(S3Proxy p) {
        try {
            p.stop();
        } catch (Exception ignored) {
            // reporting the start failure matters more
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
