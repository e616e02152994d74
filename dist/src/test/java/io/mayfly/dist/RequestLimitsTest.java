package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.URLEncoder;
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
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every body has a limit and an oversized one changes nothing: JSON and forms 4 MiB (413 saying which endpoint and
 * limit, also when the body comes chunked, without a length), webhook deliveries 25 MiB, and artifact uploads and git
 * pushes the server's --max-upload, which is larger than the JSON limit and counts alone.
 */
class RequestLimitsTest {
    private static final HttpClient HTTP =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final int MIB = 1 << 20;

    @TempDir
    Path tmp;

    @Test
    void oversizedBodiesAreRefusedWith413AndChangeNothingWhileUploadsAndPushesHaveTheirOwnLimit() throws Exception {
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data"))
                .serverOptions("--max-upload", "8M")
                .start()) {
            mayfly.cli("apps:create", "big");
            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("big"));
            assertThat(mayfly.push(repo, "big", "v1").exit()).isZero();

            // JSON past 4 MiB, with a length and chunked: 413, and the config is as it was.
            String bigConfig = "{\"K\": \"" + "x".repeat(5 * MIB) + "\"}";
            for (HttpRequest.BodyPublisher body : List.of(
                    HttpRequest.BodyPublishers.ofString(bigConfig),
                    HttpRequest.BodyPublishers.ofInputStream(
                            () -> new ByteArrayInputStream(bigConfig.getBytes(StandardCharsets.UTF_8))))) {
                HttpResponse<String> refused = send(mayfly, "PATCH", "/api/v1/apps/big/config", body, Map.of());
                assertThat(refused.statusCode()).as(refused.body()).isEqualTo(413);
                assertThat(refused.body())
                        .contains(
                                "larger than PATCH /api/v1/apps/big/config takes (at most 4 MiB); nothing was changed",
                                "mayfly builds:upload");
            }
            assertThat(mayfly.api("GET", "/api/v1/apps/big/config", null).body())
                    .doesNotContain("\"K\"");
            assertThat(mayfly.releases("big")).hasSize(1);
            HttpResponse<String> app = send(
                    mayfly,
                    "POST",
                    "/api/v1/apps",
                    HttpRequest.BodyPublishers.ofString(
                            "{\"name\": \"huge\", \"padding\": \"" + "x".repeat(5 * MIB) + "\"}"),
                    Map.of());
            assertThat(app.statusCode()).as(app.body()).isEqualTo(413);
            assertThat(mayfly.api("GET", "/api/v1/apps/huge", null).statusCode())
                    .isEqualTo(404);
            HttpResponse<String> small =
                    mayfly.api("PATCH", "/api/v1/apps/big/config", "{\"K\": \"" + "x".repeat(30_000) + "\"}");
            assertThat(small.statusCode()).as("a body under the limit").isEqualTo(200);

            // The dashboard's forms too, as a page.
            HttpResponse<String> login = send(
                    mayfly,
                    "POST",
                    "/login",
                    HttpRequest.BodyPublishers.ofString(
                            "token=" + URLEncoder.encode(mayfly.token(), StandardCharsets.UTF_8) + "&next="
                                    + "x".repeat(5 * MIB)),
                    Map.of("Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html"));
            assertThat(login.statusCode()).isEqualTo(413);
            assertThat(login.body()).contains("larger than POST /login takes (at most 4 MiB)");
            assertThat(login.headers().firstValue("Set-Cookie")).isEmpty();

            // A webhook delivery is read up to 25 MiB (then its signature decides), and no further.
            HttpResponse<String> hook = send(
                    mayfly,
                    "PUT",
                    "/api/v1/apps/big/source",
                    HttpRequest.BodyPublishers.ofString("{\"repo\": \"https://example.org/o/big.git\"}"),
                    Map.of());
            assertThat(hook.statusCode()).as(hook.body()).isEqualTo(200);
            String payload = "{\"ref\": \"refs/heads/main\", \"padding\": \"" + "x".repeat(6 * MIB) + "\"}";
            HttpResponse<String> unsigned = send(
                    mayfly,
                    "POST",
                    "/api/v1/hooks/big",
                    HttpRequest.BodyPublishers.ofString(payload),
                    Map.of("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256=00"));
            assertThat(unsigned.statusCode()).as(unsigned.body()).isEqualTo(401);
            HttpResponse<String> tooBig = send(
                    mayfly,
                    "POST",
                    "/api/v1/hooks/big",
                    HttpRequest.BodyPublishers.ofString(payload + " ".repeat(20 * MIB)),
                    Map.of("X-GitHub-Event", "push"));
            assertThat(tooBig.statusCode()).as(tooBig.body()).isEqualTo(413);
            assertThat(tooBig.body()).contains("at most 25 MiB");

            // An artifact upload takes more than the JSON limit: up to --max-upload, and past it nothing is recorded.
            byte[] image = random(6, 1);
            HttpResponse<String> uploaded = upload(mayfly, image);
            assertThat(uploaded.statusCode()).as(uploaded.body()).isEqualTo(201);
            HttpResponse<String> oversized = upload(mayfly, new byte[9 * MIB]);
            assertThat(oversized.statusCode()).as(oversized.body()).isEqualTo(413);
            assertThat(oversized.body()).contains("--max-upload");

            // A push whose pack is past --max-upload is refused, saying so, and the branch stays where it was.
            String before = lsRemote(mayfly);
            Files.write(repo.resolve("blob.bin"), random(9, 2));
            MayflyProcess.Result push = mayfly.push(repo, "big", "too big");
            assertThat(push.exit()).as(push.out()).isNotZero();
            assertThat(push.out()).contains("larger than this server takes (at most 8 MiB of objects)", "--max-upload");
            assertThat(lsRemote(mayfly)).isEqualTo(before);
        }
    }

    /** Bytes that do not compress: a pack of them is as large as they are. */
    private static byte[] random(int mib, long seed) {
        byte[] bytes = new byte[mib * MIB];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static String lsRemote(MayflyProcess mayfly) throws Exception {
        return MayflyProcess.run(
                        mayfly.data, Map.of(), List.of("git", "ls-remote", mayfly.gitUrl("big"), "refs/heads/main"))
                .out();
    }

    private static HttpResponse<String> upload(MayflyProcess mayfly, byte[] image) throws Exception {
        String sha256 =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(image));
        return send(
                mayfly,
                "POST",
                "/api/v1/apps/big/builds?artifact=hello&sha256=" + sha256,
                HttpRequest.BodyPublishers.ofByteArray(image),
                Map.of("Content-Type", "application/octet-stream"));
    }

    private static HttpResponse<String> send(
            MayflyProcess mayfly,
            String method,
            String path,
            HttpRequest.BodyPublisher body,
            Map<String, String> headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mayfly.apiPort + path))
                .timeout(Duration.ofMinutes(2))
                .method(method, body);
        if (!path.startsWith("/login") && !path.startsWith("/api/v1/hooks/"))
            b.header("Authorization", "Bearer " + mayfly.token());
        headers.forEach(b::header);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
