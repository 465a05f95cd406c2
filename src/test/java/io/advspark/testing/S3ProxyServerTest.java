package io.advspark.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;

/** The s3proxy helper itself: s3a round trip, stop/start on the same port, a taken port. */
class S3ProxyServerTest {

    @Test
    void servesS3aAndKeepsObjectsAcrossStopAndStartOnTheSamePort() throws Exception {
        try (S3ProxyServer s3 = S3ProxyServer.start(S3ProxyServer.randomBucket("helper"))) {
            int port = s3.port();
            byte[] data = "hello s3a".getBytes(StandardCharsets.UTF_8);
            Path p = new Path(s3.uri("dir/hello.txt"));
            try (FileSystem fs = FileSystem.newInstance(URI.create(s3.uri("")), s3.hadoopConf())) {
                try (OutputStream out = fs.create(p, true)) {
                    out.write(data);
                }
                assertArrayEquals(data, read(fs, p));
            }
            assertTrue(s3.listKeys(s3.bucket()).contains("dir/hello.txt"), s3.listKeys(s3.bucket()).toString());

            s3.stop();
            assertFalse(s3.isRunning());
            try (FileSystem fs = FileSystem.newInstance(URI.create(s3.uri("")), s3.hadoopConf())) {
                long t0 = System.nanoTime();
                assertThrows(IOException.class, () -> read(fs, p), "read from a stopped server");
                double s = (System.nanoTime() - t0) / 1e9;
                assertTrue(s < 30, "a stopped server took " + s + " s to be reported");
            }

            s3.start();
            assertEquals(port, s3.port());
            try (FileSystem fs = FileSystem.newInstance(URI.create(s3.uri("")), s3.hadoopConf())) {
                assertArrayEquals(data, read(fs, p), "object stored before stop() is served again");
                Path q = new Path(s3.uri("dir/after-restart.txt"));
                try (OutputStream out = fs.create(q, true)) {
                    out.write(1);
                }
                assertEquals(1, fs.getFileStatus(q).getLen());
            }
        }
    }

    @Test
    void takenPortFailsClearly() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = taken.getLocalPort();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> S3ProxyServer.startOnPort(port, "b", "AK", "SK"));
            assertTrue(e.getMessage().contains("127.0.0.1:" + port) && e.getMessage().contains("in use"), e.getMessage());
        }
    }

    private static byte[] read(FileSystem fs, Path p) throws IOException {
        try (FSDataInputStream in = fs.open(p)) {
            return in.readAllBytes();
        }
    }
}
