package io.mayfly.dist;

import static io.mayfly.dist.RegistryTest.storedHash;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.mayfly.wire.Json;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Public apps, as builder-web serves its jobs: the host of seed 003, a shell script with curl and sha256sum that holds
 * no token, pulls a public app's latest artifact and follows its next build; a private app answers it 401; everything
 * but a public app's registry stays as private as before; and turning public on or off is the deploy scope's, audited.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PublicAppsTest {
    @TempDir
    static Path tmp;

    static MayflyProcess mayfly;
    static Path site;
    static String siteSha1;
    static String vaultSha;
    static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    @BeforeAll
    static void pushAPublicAndAPrivateApp() throws Exception {
        mayfly = new MayflyProcess(tmp.resolve("data")).start();
        MayflyProcess.Result created = mayfly.cli("apps:create", "site", "--public");
        assertThat(created.exit()).as(created.out()).isZero();
        assertThat(created.out())
                .contains("The registry of site is public: anyone may read http://127.0.0.1:" + mayfly.apiPort
                        + "/job/site without a token");
        assertThat(mayfly.cli("apps:create", "vault").exit()).isZero();

        site = MayflyProcess.checkoutExample("hello", tmp.resolve("site"));
        MayflyProcess.setVersion(site, "public-1");
        siteSha1 = storedHash(mayfly.push(site, "site", "first"));
        Path vault = MayflyProcess.checkoutExample("hello", tmp.resolve("vault"));
        MayflyProcess.setVersion(vault, "private-1");
        vaultSha = storedHash(mayfly.push(vault, "vault", "secret"));
        assertThat(vaultSha).isNotEqualTo(siteSha1);
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (mayfly != null) mayfly.close();
    }

    @Test
    @Order(1)
    void theSeedHostScriptPullsAPublicAppWithNoTokenAndFollowsItsNextBuild() throws Exception {
        Path host = Files.createDirectories(tmp.resolve("host-site"));

        MayflyProcess.Result first = seedHost(host, "site");
        assertThat(first.exit()).as(first.out()).isZero();
        assertThat(first.out())
                .contains(
                        "sha256sum: " + siteSha1 + "\nDigest:    " + siteSha1 + "\n",
                        "new artifact: deploying " + siteSha1);
        assertThat(Files.readString(host.resolve("headers.txt")))
                .contains("302", "/job/site/build/1/artifact/hello", "200");
        MayflyProcess.Result again = seedHost(host, "site");
        assertThat(again.out()).as(again.out()).contains("unchanged: already running " + siteSha1);

        MayflyProcess.setVersion(site, "public-2");
        String siteSha2 = storedHash(mayfly.push(site, "site", "second"));
        assertThat(siteSha2).isNotEqualTo(siteSha1);
        MayflyProcess.Result next = seedHost(host, "site");
        assertThat(next.exit()).as(next.out()).isZero();
        assertThat(next.out())
                .contains(
                        "sha256sum: " + siteSha2 + "\nDigest:    " + siteSha2 + "\n",
                        "new artifact: deploying " + siteSha2);
        assertThat(Files.readString(host.resolve("headers.txt"))).contains("/job/site/build/2/artifact/hello");
        System.out.println("seed 003 against the public app, build #1:\n" + first.out() + again.out()
                + "after a second push, build #2:\n" + next.out());

        MayflyProcess.Result refused = seedHost(Files.createDirectories(tmp.resolve("host-vault")), "vault");
        assertThat(refused.exit()).as(refused.out()).isEqualTo(22);
        assertThat(refused.out()).contains("401").doesNotContain("deploying");
        System.out.println("seed 003 against the private app:\n" + refused.out());
    }

    @Test
    @Order(2)
    void aPublicAppsWholeRegistryIsReadableWithoutAToken() throws Exception {
        assertThat(anonymous("GET", "/job/site").body()).contains("Builds of site", siteSha1);
        assertThat(anonymous("GET", "/job/site/build/1").body()).contains("site build #1", siteSha1, "hello.sig");
        assertThat(anonymous("GET", "/job/site/build/1/console").body()).contains("-o hello hello.c");
        assertThat(Json.MAPPER
                        .readTree(anonymous("GET", "/job/site/build/1/provenance.json")
                                .body())
                        .path("inputsDigest")
                        .asText())
                .hasSize(64);
        assertThat(anonymous("GET", "/job/site/build/1/artifact/hello.sig").body())
                .isNotBlank();
        assertThat(anonymous("GET", "/job/site/build/latest").headers().firstValue("Location"))
                .hasValueSatisfying(l -> assertThat(l).matches("/job/site/build/\\d+"));

        HttpResponse<byte[]> head = HTTP.send(
                HttpRequest.newBuilder(uri("/job/site/build/1/artifact/hello"))
                        .method("HEAD", HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("ETag")).contains("\"" + siteSha1 + "\"");
        assertThat(head.headers().firstValue("Digest"))
                .hasValueSatisfying(d -> assertThat(d).startsWith("sha-256="));
        HttpResponse<byte[]> slice = HTTP.send(
                HttpRequest.newBuilder(uri("/job/site/build/1/artifact/hello"))
                        .header("Range", "bytes=0-99")
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(slice.statusCode()).isEqualTo(206);
        assertThat(slice.body()).hasSize(100);

        assertThat(anonymous("GET", "/compare/site/1/2").body()).contains("site #1", "site #2");
        assertThat(anonymous("GET", "/hash?sha256=" + siteSha1).body()).contains("/job/site/build/1");
        assertThat(Json.MAPPER
                        .readTree(anonymous("GET", "/api/v1/apps/site/builds/1").body())
                        .path("status")
                        .asText())
                .isEqualTo("succeeded");
        assertThat(Json.MAPPER
                        .readTree(anonymous("GET", "/api/v1/hash?sha256=" + siteSha1)
                                .body())
                        .path("builds"))
                .hasSize(1);
        assertThat(Json.MAPPER
                        .readTree(anonymous("GET", "/api/v1/signing-key").body())
                        .path("algorithm")
                        .asText())
                .isEqualTo("Ed25519");
        String jobs = anonymous("GET", "/job").body();
        assertThat(jobs).contains("/job/site", "Sign in").doesNotContain("vault");
        assertThat(anonymous("GET", "/api/v1/jobs").body()).contains("\"site\"").doesNotContain("vault");
    }

    @Test
    @Order(3)
    void everythingElseOfAPublicAppAndAPrivateAppsRegistryStayPrivate() throws Exception {
        List<String> notRefused = new ArrayList<>();
        for (String[] call : List.of(
                new String[] {"GET", "/api/v1/apps/site"},
                new String[] {"GET", "/api/v1/apps/site/config"},
                new String[] {"GET", "/api/v1/apps/site/logs?lines=1"},
                new String[] {"GET", "/api/v1/apps/site/releases"},
                new String[] {"GET", "/api/v1/apps/site/builds"},
                new String[] {"GET", "/api/v1/apps/site/instances"},
                new String[] {"GET", "/api/v1/apps/site/audit"},
                new String[] {"POST", "/api/v1/apps/site/deploys", "{\"build\": 1}"},
                new String[] {"POST", "/api/v1/apps/site/builds", "not an image"},
                new String[] {"POST", "/api/v1/apps/site/rollback", "{}"},
                new String[] {"PATCH", "/api/v1/apps/site/config", "{\"A\": \"b\"}"},
                new String[] {"PATCH", "/api/v1/apps/site", "{\"public\": false}"},
                new String[] {"GET", "/api/v1/apps"},
                new String[] {"GET", "/job/vault"},
                new String[] {"GET", "/job/vault/build/1"},
                new String[] {"GET", "/job/vault/build/latest/artifact/hello"},
                new String[] {"GET", "/job/vault/build/1/artifact/hello.sig"},
                new String[] {"GET", "/job/vault/build/1/console"},
                new String[] {"GET", "/job/vault/build/1/provenance.json"},
                new String[] {"GET", "/compare/vault/1/1"},
                new String[] {"GET", "/compare/site:1/vault:1"},
                new String[] {"GET", "/api/v1/apps/vault/builds/1"})) {
            HttpResponse<String> r = anonymous(call[0], call[1], call.length > 2 ? call[2] : null);
            if (r.statusCode() != 401)
                notRefused.add(String.join(" ", call) + " -> " + r.statusCode() + " " + r.body());
        }
        assertThat(notRefused).as("answered without a token").isEmpty();
        MayflyProcess.Result fetch = MayflyProcess.run(
                tmp, Map.of(), List.of("git", "ls-remote", "http://127.0.0.1:" + mayfly.apiPort + "/git/site.git"));
        assertThat(fetch.exit()).as("git fetch of a public app: " + fetch.out()).isNotZero();

        // /hash says the same of a private app's artifact as of a hash nothing produced, and so does a missing app.
        HttpResponse<String> privateHash = anonymous("GET", "/hash?sha256=" + vaultSha);
        HttpResponse<String> noHash = anonymous("GET", "/hash?sha256=" + "0".repeat(64));
        assertThat(privateHash.statusCode()).isEqualTo(noHash.statusCode()).isEqualTo(401);
        assertThat(privateHash.body().replace(vaultSha, "X"))
                .isEqualTo(noHash.body().replace("0".repeat(64), "X"))
                .doesNotContain("vault");
        assertThat(anonymous("GET", "/api/v1/hash?sha256=" + vaultSha).body()).doesNotContain("vault");
        assertThat(anonymous("GET", "/job/vault").body())
                .isEqualTo(anonymous("GET", "/job/nosuch").body());
        // An admin's /hash finds it.
        assertThat(send("GET", "/hash?sha256=" + vaultSha, mayfly.token(), null).body())
                .contains("/job/vault/build/1");
    }

    @Test
    @Order(4)
    void turningPublicOffIsTheDeployScopesAuditedAndMakesReadsNeedATokenAgain() throws Exception {
        String readsVault = TokenMatrixTest.create(mayfly, "read", "vault", null);
        String uploadsSite = TokenMatrixTest.create(mayfly, "upload", "site", null);
        String deploysSite = TokenMatrixTest.create(mayfly, "deploy", "site", null);
        assertThat(send("PATCH", "/api/v1/apps/site", readsVault, "{\"public\": false}")
                        .statusCode())
                .isEqualTo(403);
        assertThat(send("PATCH", "/api/v1/apps/site", uploadsSite, "{\"public\": false}")
                        .statusCode())
                .isEqualTo(403);
        assertThat(send("PATCH", "/api/v1/apps/vault", deploysSite, "{\"public\": true}")
                        .statusCode())
                .isEqualTo(403);
        assertThat(anonymous("GET", "/job/site").statusCode())
                .as("still public")
                .isEqualTo(200);
        assertThat(send("GET", "/job/site", readsVault, null).statusCode())
                .as("anyone, another app's token too")
                .isEqualTo(200);

        HttpResponse<String> off = send("PATCH", "/api/v1/apps/site", deploysSite, "{\"public\": false}");
        assertThat(off.statusCode()).as(off.body()).isEqualTo(200);
        assertThat(Json.MAPPER.readTree(off.body()).path("public").asBoolean(true))
                .isFalse();
        for (String path : List.of(
                "/job/site",
                "/job/site/build/latest/artifact/hello",
                "/job/site/build/1/artifact/hello.sig",
                "/hash?sha256=" + siteSha1,
                "/api/v1/apps/site/builds/1")) {
            assertThat(anonymous("GET", path).statusCode()).as(path).isEqualTo(401);
        }
        assertThat(send("GET", "/job/site", readsVault, null).statusCode()).isEqualTo(403);
        MayflyProcess.Result script = seedHost(tmp.resolve("host-site"), "site");
        assertThat(script.exit()).as(script.out()).isEqualTo(22);
        assertThat(script.out()).contains("401");
        assertThat(mayfly.cli("apps").out()).containsPattern("site .* private ");

        MayflyProcess.Result on = mayfly.cli("apps:public", "-a", "site", "on");
        assertThat(on.exit()).as(on.out()).isZero();
        assertThat(anonymous("GET", "/job/site").statusCode()).isEqualTo(200);
        assertThat(mayfly.cli("apps").out()).containsPattern("site .* public ").containsPattern("vault .* private ");

        String audit = mayfly.cli("audit", "-a", "site").out();
        assertThat(audit).contains("public", "off: its registry needs a token again", "on: anyone may read");
        Map<String, String> byWhom = new java.util.HashMap<>();
        for (JsonNode entry : Json.MAPPER.readTree(
                send("GET", "/api/v1/apps/site/audit", mayfly.token(), null).body())) {
            if (entry.path("action").asText().equals("public"))
                byWhom.put(
                        entry.path("detail").asText().substring(0, 3),
                        entry.path("actor").asText());
        }
        assertThat(byWhom).containsOnlyKeys("off", "on:");
        assertThat(byWhom.get("off"))
                .as("the deploy token, not the admin")
                .startsWith("token ")
                .isNotEqualTo(byWhom.get("on:"));
    }

    /** Seed 003's script as it is, with only the server and the job set. */
    private static MayflyProcess.Result seedHost(Path host, String job) throws Exception {
        String script;
        try (InputStream in = PublicAppsTest.class.getResourceAsStream("/seed-003/pull-and-deploy.sh")) {
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        script = script.replace("SERVER=http://builds.example.org", "SERVER=http://127.0.0.1:" + mayfly.apiPort)
                .replace("JOB=mirage-www", "JOB=" + job);
        Files.writeString(host.resolve("pull-and-deploy.sh"), script);
        return MayflyProcess.run(host, Map.of(), List.of("sh", "pull-and-deploy.sh"));
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + mayfly.apiPort + path);
    }

    private static HttpResponse<String> anonymous(String method, String path) throws Exception {
        return anonymous(method, path, null);
    }

    private static HttpResponse<String> anonymous(String method, String path, String body) throws Exception {
        return send(method, path, null, body);
    }

    private static HttpResponse<String> send(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofMinutes(1));
        if (token != null) b.header("Authorization", "Bearer " + token);
        b.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
