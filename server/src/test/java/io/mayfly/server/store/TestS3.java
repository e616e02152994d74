package io.mayfly.server.store;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;

/**
 * A real S3 API server inside the test: S3Proxy (from Maven Central) over a directory, on a free loopback port,
 * checking AWS signatures against the credentials it is given, as AWS S3 or MinIO would.
 */
public final class TestS3 implements AutoCloseable {
    public static final String ACCESS_KEY = "mayfly-test";
    public static final String SECRET_KEY = "mayfly-test-secret";

    private final S3Proxy proxy;
    public final FilesystemNio2BlobStore store;
    public final String endpoint;

    public TestS3(Path dir) throws Exception {
        Files.createDirectories(dir);
        store = new FilesystemNio2BlobStore(dir.toString());
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        endpoint = "http://127.0.0.1:" + port;
        proxy = S3Proxy.builder()
                .blobStore(store)
                .endpoint(URI.create(endpoint))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .build();
        proxy.start();
        while (!"STARTED".equals(proxy.getState())) Thread.sleep(10);
    }

    /** An empty bucket and the {@code --blobs} URL naming it. */
    public String newBucket(String name) {
        store.createContainer(name);
        return "s3://" + name + "?endpoint=" + endpoint + "&region=us-east-1";
    }

    @Override
    public void close() throws Exception {
        proxy.stop();
    }
}
