package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Builds made by CI arrive as uploads: streamed, checked against their digest, scoped, and released like a push. */
class UploadTest {
    private static final long GIB = 1L << 30;

    @TempDir
    Path tmp;

    @Test
    void anUploadIsCheckedRecordedAndDeployedAndACutOffOneLeavesNothing() throws Exception {
        Path hello = buildHello();
        try (MayflyProcess mayfly =
                new MayflyProcess(tmp.resolve("data")).jvm("-Xmx256m").start()) {
            mayfly.cli("apps:create", "ci");
            String upload = token(mayfly, "upload");
            String deploy = token(mayfly, "deploy");

            MayflyProcess.Result stored = cli(
                    mayfly,
                    upload,
                    "builds:upload",
                    "-a",
                    "ci",
                    hello.toString(),
                    "--artifact",
                    "hello",
                    "--commit",
                    "abc1234",
                    "--ci-url",
                    "https://ci.invalid/job/1");
            assertThat(stored.exit()).as(stored.out()).isZero();
            assertThat(stored.out()).contains("as build #1", "sha256:" + sha256(hello));
            MayflyProcess.Result refused = cli(
                    mayfly, upload, "builds:upload", "-a", "ci", hello.toString(), "--artifact", "hello", "--deploy");
            assertThat(refused.exit()).isEqualTo(1);
            assertThat(refused.out()).contains("may not deploy");

            MayflyProcess.Result deployed = cli(
                    mayfly, deploy, "builds:upload", "-a", "ci", hello.toString(), "--artifact", "hello", "--deploy");
            assertThat(deployed.exit()).as(deployed.out()).isZero();
            assertThat(deployed.out()).contains("Released as v1");
            assertThat(mayfly.visit("ci", "/").body()).contains("hello v1");
            var build = Json.MAPPER.readTree(
                    mayfly.api("GET", "/api/v1/apps/ci/builds/1", null).body());
            assertThat(build.path("source").asText()).isEqualTo("upload");
            assertThat(build.path("commit").asText()).isEqualTo("abc1234");
            assertThat(build.path("provenance").path("source").asText())
                    .startsWith("upload:" + sha256(hello) + " by token ");

            // A digest that does not match the bytes: refused, nothing recorded.
            HttpResponse<String> mismatch =
                    raw(mayfly, "/api/v1/apps/ci/builds?artifact=hello&sha256=" + "0".repeat(64), "not hello");
            assertThat(mismatch.statusCode()).isEqualTo(422);
            assertThat(builds(mayfly)).hasSize(2);

            // Cut off midway: the client announces 10 MiB, sends 1 MiB and hangs up.
            try (Socket s = new Socket("127.0.0.1", mayfly.apiPort)) {
                OutputStream out = s.getOutputStream();
                out.write(("POST /api/v1/apps/ci/builds?artifact=hello&sha256=" + "1".repeat(64)
                                + " HTTP/1.1\r\nHost: x\r\n"
                                + "Authorization: Bearer " + mayfly.token()
                                + "\r\nContent-Type: application/octet-stream\r\n"
                                + "Content-Length: " + (10 << 20) + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.write(new byte[1 << 20]);
                out.flush();
            }
            Thread.sleep(500);
            assertThat(builds(mayfly)).hasSize(2);

            // 1 GiB streamed into a server whose heap is 256 MiB.
            String big = generatedSha256(GIB);
            HttpResponse<String> huge = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mayfly.apiPort
                                            + "/api/v1/apps/ci/builds?artifact=big.img&sha256=" + big))
                                    .header("Authorization", "Bearer " + mayfly.token())
                                    .timeout(Duration.ofMinutes(10))
                                    .POST(HttpRequest.BodyPublishers.fromPublisher(
                                            HttpRequest.BodyPublishers.ofInputStream(() -> generated(GIB)), GIB))
                                    .header(
                                            "X-Mayfly-Manifest",
                                            java.util.Base64.getEncoder()
                                                    .encodeToString("[build]\nartifact = \"big.img\"\n"
                                                            .getBytes(StandardCharsets.UTF_8)))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(huge.statusCode()).as(huge.body()).isEqualTo(201);
            assertThat(huge.body()).contains(big, "\"size\":" + GIB);

            mayfly.stop();
            mayfly.start();
            try (var partials = Files.list(mayfly.data.resolve("blobs/tmp"))) {
                assertThat(partials.toList())
                        .as("no orphaned temporary file after the restart")
                        .isEmpty();
            }
            assertThat(builds(mayfly)).hasSize(3);
            assertThat(mayfly.serverLog()).doesNotContain("OutOfMemoryError");
        }
    }

    private List<Views.BuildView> builds(MayflyProcess mayfly) throws Exception {
        return List.of(
                Json.read(mayfly.api("GET", "/api/v1/apps/ci/builds", null).body(), Views.BuildView[].class));
    }

    private static String token(MayflyProcess mayfly, String scope) throws Exception {
        MayflyProcess.Result r = mayfly.cli("tokens:create", "--app", "ci", "--scope", scope);
        return r.out().lines().filter(l -> l.startsWith("mf_")).findFirst().orElseThrow();
    }

    private static MayflyProcess.Result cli(MayflyProcess mayfly, String token, String... args) throws Exception {
        List<String> cmd =
                new java.util.ArrayList<>(List.of(MayflyProcess.java(), "-jar", MayflyProcess.JAR.toString()));
        cmd.addAll(List.of(args));
        return MayflyProcess.run(
                MayflyProcess.ROOT,
                java.util.Map.of("MAYFLY_URL", "http://127.0.0.1:" + mayfly.apiPort, "MAYFLY_TOKEN", token),
                cmd);
    }

    private static HttpResponse<String> raw(MayflyProcess mayfly, String path, String body) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mayfly.apiPort + path))
                                .header("Authorization", "Bearer " + mayfly.token())
                                .POST(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }

    private Path buildHello() throws Exception {
        Path dir = MayflyProcess.checkoutExample("hello", tmp.resolve("src"));
        MayflyProcess.Result make = MayflyProcess.run(dir, java.util.Map.of(), List.of("make"));
        assertThat(make.exit()).as(make.out()).isZero();
        return dir.resolve("hello");
    }

    /** A repeating pattern, made as it is read: the test never holds the gigabyte either. */
    private static InputStream generated(long size) {
        return new InputStream() {
            long left = size;

            @Override
            public int read() {
                return left-- > 0 ? (int) (left % 251) : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left <= 0) return -1;
                int n = (int) Math.min(len, left);
                for (int i = 0; i < n; i++) b[off + i] = (byte) ((left - i - 1) % 251);
                left -= n;
                return n;
            }
        };
    }

    private static String generatedSha256(long size) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = generated(size)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
