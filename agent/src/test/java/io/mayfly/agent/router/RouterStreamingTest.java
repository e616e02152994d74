package io.mayfly.agent.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RouterStreamingTest {
    private static final int MIB = 1024 * 1024;

    private NamedBackend backend;
    private Router router;
    private InetSocketAddress address;
    private HttpClient client;

    @BeforeEach
    void start() throws Exception {
        backend = NamedBackend.start("files")
                .on("/digest", exchange -> {
                    String digest = sha256(exchange.getRequestBody().readAllBytes());
                    String encoding = exchange.getRequestHeaders().getFirst("Transfer-Encoding");
                    NamedBackend.reply(exchange, 200, digest + " " + (encoding == null ? "sized" : encoding));
                })
                .on("/big", exchange -> {
                    exchange.sendResponseHeaders(200, 8L * MIB);
                    try (OutputStream out = exchange.getResponseBody()) {
                        out.write(bytes(8 * MIB));
                    }
                })
                .on("/chunked", exchange -> {
                    exchange.sendResponseHeaders(200, 0);
                    try (OutputStream out = exchange.getResponseBody()) {
                        for (int i = 0; i < 100; i++) {
                            out.write(("line " + i + "\n").getBytes());
                            out.flush();
                        }
                    }
                });
        router = new Router("localhost", 2);
        router.switchTo("files", List.of(backend.backend()));
        address = router.start(new InetSocketAddress("127.0.0.1", 0));
        client = RouterClients.through(address);
    }

    @AfterEach
    void stop() {
        router.close();
        backend.close();
    }

    @Test
    void postOfOneMebibyteArrivesWhole() throws Exception {
        byte[] body = bytes(MIB);

        HttpResponse<String> response = client.send(
                RouterClients.request(address, "files", "/digest")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(sha256(body) + " sized");
    }

    @Test
    void chunkedRequestBodyArrivesWhole() throws Exception {
        byte[] body = bytes(MIB + 12345);

        HttpResponse<String> response = client.send(
                RouterClients.request(address, "files", "/digest")
                        .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)))
                        .build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(sha256(body) + " chunked");
    }

    @Test
    void eightMebibyteResponseStreamsWhole() throws Exception {
        HttpResponse<InputStream> response = client.send(
                RouterClients.request(address, "files", "/big").build(), HttpResponse.BodyHandlers.ofInputStream());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-length")).hasValue(String.valueOf(8 * MIB));
        try (InputStream in = response.body()) {
            assertThat(sha256(in.readAllBytes())).isEqualTo(sha256(bytes(8 * MIB)));
        }
    }

    @Test
    void chunkedResponseStaysChunkedAndWhole() throws Exception {
        HttpResponse<String> response = client.send(
                RouterClients.request(address, "files", "/chunked").build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("transfer-encoding")).hasValue("chunked");
        assertThat(response.body()).startsWith("line 0\n").endsWith("line 99\n").hasLineCount(100);
        // and the connection is still good for the next request
        assertThat(RouterClients.get(client, address, "files", "/").body()).isEqualTo("files");
    }

    @Test
    void slowReaderGetsTheWholeResponse() throws Exception {
        HttpResponse<InputStream> response = client.send(
                RouterClients.request(address, "files", "/big").build(), HttpResponse.BodyHandlers.ofInputStream());
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream in = response.body()) {
            byte[] buffer = new byte[64 * 1024];
            int read;
            int reads = 0;
            while ((read = in.read(buffer)) >= 0) {
                digest.update(buffer, 0, read);
                if (reads++ % 16 == 0) {
                    Thread.sleep(1); // lets the router's socket buffer fill so it must stop reading the backend
                }
            }
        }
        assertThat(HexFormat.of().formatHex(digest.digest())).isEqualTo(sha256(bytes(8 * MIB)));
    }

    static byte[] bytes(int size) {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        return bytes;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
