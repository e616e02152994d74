package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.mayfly.server.store.Database;
import io.mayfly.server.store.Tokens;
import io.mayfly.wire.Json;
import io.mayfly.wire.RegistryViews;
import io.mayfly.wire.Views;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry over real HTTP against a running server with two pushed builds of examples/hello: pages and JSON,
 * latest redirects, verified and ranged downloads, a corrupted blob, /hash, /compare, signatures, verify and deploy.
 */
class RegistryTest {
    @TempDir
    static Path tmp;

    static MayflyProcess mayfly;
    static String sha1;
    static String sha2;

    static {
        // As in MayflyProcess (Host headers for the router): the JDK reads this once, when the first HTTP client is
        // made.
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
    }

    static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    @BeforeAll
    static void pushTwoBuilds() throws Exception {
        mayfly = new MayflyProcess(tmp.resolve("data")).start();
        assertThat(mayfly.cli("apps:create", "hello").exit()).isZero();
        Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("hello"));
        MayflyProcess.setVersion(repo, "registry-1");
        sha1 = storedHash(mayfly.push(repo, "hello", "first"));
        MayflyProcess.setVersion(repo, "registry-2");
        sha2 = storedHash(mayfly.push(repo, "hello", "second"));
        assertThat(sha1).isNotEqualTo(sha2);
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (mayfly != null) mayfly.close();
    }

    /** The sha256 a successful push of examples/hello says it stored. */
    static String storedHash(MayflyProcess.Result push) {
        assertThat(push.exit()).as(push.out()).isZero();
        Matcher m = Pattern.compile("Stored hello sha256:([0-9a-f]{64})").matcher(push.out());
        assertThat(m.find()).as(push.out()).isTrue();
        return m.group(1);
    }

    @Test
    void jobAndBuildPagesShowEveryBuildWithItsHashAndTheSameDataAsJson() throws Exception {
        HttpResponse<String> jobs = text("/job");
        assertThat(jobs.statusCode()).isEqualTo(200);
        assertThat(jobs.headers().firstValue("Content-Type"))
                .hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
        assertThat(jobs.body()).contains("/job/hello", "#2", "succeeded");
        RegistryViews.JobView job =
                List.of(Json.read(text("/api/v1/jobs").body(), RegistryViews.JobView[].class)).stream()
                        .filter(j -> j.app().equals("hello"))
                        .findFirst()
                        .orElseThrow();
        assertThat(job.latestBuild()).isEqualTo(2);
        assertThat(job.latestSucceededBuild()).isEqualTo(2);
        assertThat(job.latestStatus()).isEqualTo("succeeded");

        String builds = text("/job/hello").body();
        assertThat(builds).contains("/job/hello/build/1", "/job/hello/build/2", sha1, sha2, "Builds of hello");
        assertThat(List.of(Json.read(text("/api/v1/apps/hello/builds").body(), Views.BuildView[].class)))
                .extracting(Views.BuildView::number)
                .containsExactly(2, 1);

        HttpResponse<String> page = text("/job/hello/build/1");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body())
                .contains(
                        "hello build #1",
                        sha1,
                        "/job/hello/build/1/artifact/hello",
                        "hello.sig",
                        "Provenance",
                        "Inputs digest",
                        "-o hello hello.c",
                        "not checked yet");

        HttpResponse<String> console = text("/job/hello/build/1/console");
        assertThat(console.headers().firstValue("Content-Type"))
                .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        assertThat(console.body()).contains("-o hello hello.c");

        JsonNode provenance =
                Json.MAPPER.readTree(text("/job/hello/build/1/provenance.json").body());
        assertThat(provenance.path("inputsDigest").asText()).hasSize(64);
        assertThat(provenance.path("tools").size()).isPositive();

        RegistryViews.BuildDetail detail =
                Json.read(text("/api/v1/apps/hello/builds/1").body(), RegistryViews.BuildDetail.class);
        assertThat(detail.number()).isEqualTo(1);
        assertThat(detail.status()).isEqualTo("succeeded");
        assertThat(detail.mainArtifact()).isEqualTo("hello");
        assertThat(detail.artifacts()).singleElement().satisfies(a -> {
            assertThat(a.sha256()).isEqualTo(sha1);
            assertThat(a.url()).isEqualTo("/job/hello/build/1/artifact/hello");
            assertThat(a.signatureUrl()).isEqualTo("/job/hello/build/1/artifact/hello.sig");
        });
        assertThat(detail.provenance().path("inputsDigest").asText())
                .isEqualTo(provenance.path("inputsDigest").asText());
        assertThat(detail.reproducibility()).isNull();
        assertThat(detail.consoleUrl()).isEqualTo("/job/hello/build/1/console");
    }

    @Test
    void latestRedirectsToTheNewestSuccessfulBuildsSameUrl() throws Exception {
        assertThat(location("/job/hello/build/latest")).isEqualTo("/job/hello/build/2");
        assertThat(location("/job/hello/build/latest/artifact/hello")).isEqualTo("/job/hello/build/2/artifact/hello");
        assertThat(location("/job/hello/build/latest/artifact/hello.sig"))
                .isEqualTo("/job/hello/build/2/artifact/hello.sig");
        assertThat(location("/job/hello/build/latest/console")).isEqualTo("/job/hello/build/2/console");
        assertThat(location("/api/v1/apps/hello/builds/latest")).isEqualTo("/api/v1/apps/hello/builds/2");
    }

    @Test
    void downloadsCarryHashHeadersAndHonourRangeAndIfNoneMatch() throws Exception {
        HttpResponse<byte[]> whole = get("/job/hello/build/1/artifact/hello");
        assertThat(whole.statusCode()).isEqualTo(200);
        byte[] bytes = whole.body();
        assertThat(sha256(bytes)).isEqualTo(sha1);
        assertThat(whole.headers().firstValue("ETag")).contains("\"" + sha1 + "\"");
        assertThat(whole.headers().firstValue("Digest"))
                .contains("sha-256="
                        + Base64.getEncoder().encodeToString(HexFormat.of().parseHex(sha1)));
        assertThat(whole.headers().firstValue("Content-Length")).contains(Integer.toString(bytes.length));
        assertThat(whole.headers().firstValue("Accept-Ranges")).contains("bytes");

        HttpResponse<byte[]> head = send(request("/job/hello/build/1/artifact/hello", bearer())
                .method("HEAD", HttpRequest.BodyPublishers.noBody()));
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("ETag")).contains("\"" + sha1 + "\"");
        assertThat(head.headers().firstValue("Content-Length")).contains(Integer.toString(bytes.length));

        HttpResponse<byte[]> slice = get("/job/hello/build/1/artifact/hello", "Range", "bytes=100-199");
        assertThat(slice.statusCode()).isEqualTo(206);
        assertThat(slice.headers().firstValue("Content-Range")).contains("bytes 100-199/" + bytes.length);
        assertThat(slice.body()).isEqualTo(Arrays.copyOfRange(bytes, 100, 200));
        HttpResponse<byte[]> tail = get("/job/hello/build/1/artifact/hello", "Range", "bytes=-16");
        assertThat(tail.statusCode()).isEqualTo(206);
        assertThat(tail.body()).isEqualTo(Arrays.copyOfRange(bytes, bytes.length - 16, bytes.length));

        HttpResponse<byte[]> beyond = get("/job/hello/build/1/artifact/hello", "Range", "bytes=" + bytes.length + "-");
        assertThat(beyond.statusCode()).isEqualTo(416);
        assertThat(beyond.headers().firstValue("Content-Range")).contains("bytes */" + bytes.length);

        HttpResponse<byte[]> cached = get("/job/hello/build/1/artifact/hello", "If-None-Match", "\"" + sha1 + "\"");
        assertThat(cached.statusCode()).isEqualTo(304);
        assertThat(cached.body()).isEmpty();
        assertThat(get("/job/hello/build/1/artifact/hello", "If-None-Match", "\"" + sha2 + "\"")
                        .statusCode())
                .isEqualTo(200);

        // What a browser or curl -u mayfly:TOKEN sends.
        HttpResponse<byte[]> basic = send(request(
                "/job/hello/build/1/artifact/hello",
                "Basic "
                        + Base64.getEncoder()
                                .encodeToString(("mayfly:" + mayfly.token()).getBytes(StandardCharsets.UTF_8))));
        assertThat(basic.statusCode()).isEqualTo(200);
        assertThat(sha256(basic.body())).isEqualTo(sha1);
    }

    @Test
    void aBlobCorruptedOnDiskIsNeverServedAndTheServerLogSaysWhich() throws Exception {
        Path blob = mayfly.data
                .resolve("blobs/sha256")
                .resolve(sha1.substring(0, 2))
                .resolve(sha1);
        byte[] original = Files.readAllBytes(blob);
        byte[] garbage = original.clone();
        for (int i = 0; i < 64; i++) garbage[1000 + i] ^= (byte) 0x5a;
        Files.write(blob, garbage);
        try {
            HttpResponse<byte[]> response = get("/job/hello/build/1/artifact/hello");
            assertThat(response.statusCode()).isEqualTo(500);
            String body = new String(response.body(), StandardCharsets.UTF_8);
            assertThat(body).contains("corrupt", "hello", "build #1").doesNotContain("ELF");
            assertThat(response.body().length).isLessThan(2000);
            assertThat(response.headers().firstValue("ETag")).isEmpty();
            assertThat(get("/job/hello/build/1/artifact/hello", "Range", "bytes=0-3")
                            .statusCode())
                    .as("no slice either")
                    .isEqualTo(500);
            assertThat(mayfly.serverLog())
                    .contains("ERROR")
                    .contains("refusing to serve artifact hello (sha256:" + sha1 + ") of hello build #1")
                    .contains("is corrupt on disk");
        } finally {
            Files.write(blob, original);
        }
        assertThat(sha256(get("/job/hello/build/1/artifact/hello").body())).isEqualTo(sha1);
    }

    @Test
    void hashFindsTheBuildThatProducedIt() throws Exception {
        HttpResponse<String> page = text("/hash?sha256=" + sha1);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("/job/hello/build/1", sha1).doesNotContain("/job/hello/build/2\"");

        RegistryViews.HashView json = Json.read(
                send(
                                request("/hash?sha256=" + sha2, bearer())
                                        .header("Accept", "application/json")
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body(),
                RegistryViews.HashView.class);
        assertThat(json.builds()).singleElement().satisfies(h -> {
            assertThat(h.app()).isEqualTo("hello");
            assertThat(h.build()).isEqualTo(2);
            assertThat(h.artifact()).isEqualTo("hello");
        });
        RegistryViews.HashView api =
                Json.read(text("/api/v1/hash?sha256=sha256:" + sha1).body(), RegistryViews.HashView.class);
        assertThat(api.builds()).extracting(RegistryViews.HashHit::build).containsExactly(1);

        HttpResponse<String> unknown = text("/hash?sha256=" + "0".repeat(64));
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("no build you may read produced");
        assertThat(text("/hash?sha256=nothex").statusCode()).isEqualTo(400);
    }

    @Test
    void compareShowsTheDifferingArtifactHashAndEqualToolVersions() throws Exception {
        RegistryViews.CompareView c =
                Json.read(text("/api/v1/compare/hello/1/2").body(), RegistryViews.CompareView.class);
        assertThat(c.left().build()).isEqualTo(1);
        assertThat(c.right().build()).isEqualTo(2);
        assertThat(c.artifacts()).singleElement().satisfies(a -> {
            assertThat(a.left()).isEqualTo(sha1);
            assertThat(a.right()).isEqualTo(sha2);
            assertThat(a.same()).isFalse();
        });
        assertThat(c.tools().changed()).isEmpty();
        assertThat(c.tools().unchanged()).isPositive();
        assertThat(c.packages().changed()).isEmpty();
        assertThat(c.fields())
                .filteredOn(f -> f.field().equals("source"))
                .singleElement()
                .satisfies(f -> assertThat(f.same()).isFalse());
        assertThat(c.fields())
                .filteredOn(f -> f.field().equals("osRelease"))
                .singleElement()
                .satisfies(f -> assertThat(f.same()).isTrue());
        assertThat(c.sameInputs()).isFalse();

        HttpResponse<String> page = text("/compare/hello/1/2");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains(sha1, sha2, "differs", "Tool versions", "equal");
        assertThat(Json.read(text("/api/v1/compare/hello:1/hello:2").body(), RegistryViews.CompareView.class))
                .isEqualTo(c);
        assertThat(text("/compare/hello:1/hello:2").body()).contains(sha1, sha2);
        assertThat(text("/compare/hello/1/99").statusCode()).isEqualTo(404);
    }

    @Test
    void signatureVerifiesWithTheJdkAgainstThePublishedKey() throws Exception {
        RegistryViews.SigningKeyView key =
                Json.read(text("/api/v1/signing-key").body(), RegistryViews.SigningKeyView.class);
        assertThat(key.algorithm()).isEqualTo("Ed25519");
        byte[] der = Base64.getDecoder().decode(key.publicKey());
        assertThat(key.fingerprint()).isEqualTo("sha256:" + sha256(der));
        assertThat(Files.getPosixFilePermissions(mayfly.data.resolve("signing-key")))
                .containsExactlyInAnyOrder(
                        java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);

        HttpResponse<String> sig = text("/job/hello/build/1/artifact/hello.sig");
        assertThat(sig.statusCode()).isEqualTo(200);
        Signature verifier = Signature.getInstance("Ed25519");
        verifier.initVerify(KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der)));
        verifier.update(("sha256:" + sha1).getBytes(StandardCharsets.US_ASCII));
        assertThat(verifier.verify(Base64.getDecoder().decode(sig.body().strip())))
                .isTrue();

        verifier.initVerify(KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der)));
        verifier.update(("sha256:" + sha2).getBytes(StandardCharsets.US_ASCII));
        assertThat(verifier.verify(Base64.getDecoder().decode(sig.body().strip())))
                .as("bound to build 1's hash")
                .isFalse();
    }

    @Test
    void mayflyVerifyAcceptsTheRealDownloadAndRejectsAModifiedCopy() throws Exception {
        Path download = tmp.resolve("hello-download");
        Files.write(download, get("/job/hello/build/1/artifact/hello").body());
        MayflyProcess.Result ok = mayfly.cli("verify", download.toString(), "--app", "hello", "--build", "1");
        assertThat(ok.exit()).as(ok.out()).isZero();
        assertThat(ok.out())
                .contains("verified: " + download + " is hello from build #1 of hello (sha256:" + sha1
                        + "), signed by key sha256:");

        Path modified = tmp.resolve("hello-modified");
        byte[] bytes = Files.readAllBytes(download);
        bytes[bytes.length / 2] ^= 1;
        Files.write(modified, bytes);
        MayflyProcess.Result bad = mayfly.cli("verify", modified.toString(), "--app", "hello", "--build", "1");
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.out())
                .contains("error: " + modified + " is not hello from build #1 of hello")
                .contains("sha256:" + sha1);

        MayflyProcess.Result wrongBuild = mayfly.cli("verify", download.toString(), "--app", "hello", "--build", "2");
        assertThat(wrongBuild.exit()).isEqualTo(1);
        MayflyProcess.Result wrongKey = mayfly.cli(
                "verify", download.toString(), "--app", "hello", "--build", "1", "--key", "sha256:" + "0".repeat(64));
        assertThat(wrongKey.exit()).isEqualTo(1);
        assertThat(wrongKey.out()).contains("not the expected");
    }

    @Test
    void deployOfAStoredBuildServesItAgainWithoutRebuilding() throws Exception {
        mayfly.awaitServing("hello", "registry-2", Duration.ofSeconds(10));
        MayflyProcess.Result deploy = mayfly.cli("deploy", "-a", "hello", "--build", "1");
        assertThat(deploy.exit()).as(deploy.out()).isZero();
        int version = mayfly.releases("hello").get(0).version();
        assertThat(deploy.out())
                .contains("Deployed build #1 of hello as v" + version + ": live at http://hello.localhost:"
                        + mayfly.routerPort);
        assertThat(mayfly.visit("hello", "/").body()).contains("registry-1");
        Views.ReleaseView live = mayfly.releases("hello").get(0);
        assertThat(live.build()).isEqualTo(1);
        assertThat(live.sha256()).isEqualTo(sha1);
        assertThat(live.status()).isEqualTo("live");
        assertThat(text("/api/v1/apps/hello/builds").body()).doesNotContain("\"number\":3");

        MayflyProcess.Result byHash = mayfly.cli("deploy", "-a", "hello", "--sha256", sha2);
        assertThat(byHash.exit()).as(byHash.out()).isZero();
        assertThat(byHash.out()).contains("Deployed build #2 of hello as v" + (version + 1));
        assertThat(mayfly.visit("hello", "/").body()).contains("registry-2");

        MayflyProcess.Result missing = mayfly.cli("deploy", "-a", "hello", "--build", "99");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.out()).contains("app hello has no build #99");
    }

    @Test
    void pagesNeedATokenThatMayReadTheAppAndSayWhatWasNotFound() throws Exception {
        HttpResponse<String> anonymous =
                HTTP.send(HttpRequest.newBuilder(uri("/job/hello")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("WWW-Authenticate"))
                .hasValueSatisfying(v -> assertThat(v).startsWith("Basic realm=\"mayfly\""));
        assertThat(anonymous.body()).contains("curl -u mayfly:TOKEN");
        HttpResponse<byte[]> anonymousDownload = send(HttpRequest.newBuilder(uri("/job/hello/build/1/artifact/hello")));
        assertThat(anonymousDownload.statusCode()).isEqualTo(401);
        assertThat(anonymousDownload.body().length).isLessThan(1000);
        assertThat(send(request("/job/hello", "Bearer not-a-token")).statusCode())
                .isEqualTo(401);

        // A read token for another app, made in the server's own database (a token is only ever made for an app that
        // exists).
        assertThat(mayfly.cli("apps:create", "other").exit()).isZero();
        Tokens.Created other = new Tokens(Database.sqlite(mayfly.data.resolve("mayfly.db")))
                .create("read", "other", "registry test", null);
        String otherToken = "Bearer " + other.secret();
        assertThat(send(request("/job/hello", otherToken)).statusCode()).isEqualTo(403);
        assertThat(send(request("/job/hello/build/1/artifact/hello", otherToken))
                        .statusCode())
                .isEqualTo(403);
        assertThat(send(request("/api/v1/apps/hello/builds/1", otherToken)).statusCode())
                .isEqualTo(403);
        assertThat(send(request("/compare/hello:1/hello:2", otherToken)).statusCode())
                .isEqualTo(403);
        assertThat(send(request("/hash?sha256=" + sha1, otherToken)).statusCode())
                .as("hashes of unreadable apps stay hidden")
                .isEqualTo(404);
        HttpResponse<byte[]> jobs = send(request("/job", otherToken));
        assertThat(jobs.statusCode()).isEqualTo(200);
        assertThat(new String(jobs.body(), StandardCharsets.UTF_8)).doesNotContain("/job/hello");

        HttpResponse<String> noApp = text("/job/nosuch");
        assertThat(noApp.statusCode()).isEqualTo(404);
        assertThat(noApp.body()).contains("no app named nosuch", "/job");
        HttpResponse<String> noBuild = text("/job/hello/build/99");
        assertThat(noBuild.statusCode()).isEqualTo(404);
        assertThat(noBuild.body()).contains("app hello has no build #99", "/job/hello");
        HttpResponse<String> noArtifact = text("/job/hello/build/1/artifact/nope");
        assertThat(noArtifact.statusCode()).isEqualTo(404);
        assertThat(noArtifact.body()).contains("has no artifact named nope", "hello");
    }

    // ---- HTTP ----

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + mayfly.apiPort + path);
    }

    private static String bearer() throws Exception {
        return "Bearer " + mayfly.token();
    }

    private static HttpRequest.Builder request(String path, String authorization) {
        return HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30)).header("Authorization", authorization);
    }

    private static HttpResponse<byte[]> send(HttpRequest.Builder request) throws Exception {
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) throws Exception {
        return HTTP.send(request, handler);
    }

    private static HttpResponse<byte[]> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = request(path, bearer());
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return send(b);
    }

    private static HttpResponse<String> text(String path) throws Exception {
        return HTTP.send(request(path, bearer()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String location(String path) throws Exception {
        HttpResponse<String> r = text(path);
        assertThat(r.statusCode()).as(path).isEqualTo(302);
        return r.headers().firstValue("Location").orElseThrow();
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
