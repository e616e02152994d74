package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.mayfly.wire.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every scope against every endpoint family, on its own app and on another: allowed (any answer but 401/403) or
 * denied (403). Expired and revoked tokens get 401 saying which; an app's tokens end with the app.
 */
class TokenMatrixTest {
    private static final HttpClient HTTP =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path tmp;

    /** What a token needs for a family of endpoints. */
    enum Need {
        READ,
        UPLOAD,
        DEPLOY,
        ADMIN
    }

    record Family(String name, Need need, String method, String path, String body) {}

    static final List<Family> FAMILIES = List.of(
            new Family("app info", Need.READ, "GET", "/api/v1/apps/{app}", null),
            new Family("releases", Need.READ, "GET", "/api/v1/apps/{app}/releases", null),
            new Family("builds", Need.READ, "GET", "/api/v1/apps/{app}/builds", null),
            new Family("instances", Need.READ, "GET", "/api/v1/apps/{app}/instances", null),
            new Family("logs", Need.READ, "GET", "/api/v1/apps/{app}/logs?lines=1", null),
            new Family("registry page", Need.READ, "GET", "/job/{app}", null),
            new Family("build detail", Need.READ, "GET", "/api/v1/apps/{app}/builds/1", null),
            new Family("artifact download", Need.READ, "GET", "/job/{app}/build/1/artifact/hello", null),
            new Family("git fetch", Need.READ, "GIT-FETCH", "{app}", null),
            new Family("config", Need.DEPLOY, "GET", "/api/v1/apps/{app}/config", null),
            new Family("rollback", Need.DEPLOY, "POST", "/api/v1/apps/{app}/rollback", "{\"version\": 99}"),
            new Family("deploy a build", Need.DEPLOY, "POST", "/api/v1/apps/{app}/deploys", "{\"build\": 99}"),
            new Family("scale", Need.DEPLOY, "POST", "/api/v1/apps/{app}/scale", "{\"instances\": 1}"),
            new Family("audit", Need.DEPLOY, "GET", "/api/v1/apps/{app}/audit", null),
            new Family(
                    "make the registry public or private",
                    Need.DEPLOY,
                    "PATCH",
                    "/api/v1/apps/{app}",
                    "{\"public\": false}"),
            new Family("git push", Need.DEPLOY, "GIT-PUSH", "{app}", null),
            new Family("list tokens", Need.ADMIN, "GET", "/api/v1/tokens", null),
            new Family("reprobe a driver", Need.ADMIN, "POST", "/api/v1/drivers/process/reprobe", null),
            new Family("create an app", Need.ADMIN, "POST", "/api/v1/apps", "{\"name\": \"made-by-{app}\"}"));

    /** scope -> which needs it satisfies on its own app (admin: every app). */
    static final Map<String, List<Need>> GRANTS = Map.of(
            "admin", List.of(Need.READ, Need.UPLOAD, Need.DEPLOY, Need.ADMIN),
            "read", List.of(Need.READ),
            "upload", List.of(Need.READ, Need.UPLOAD),
            "deploy", List.of(Need.READ, Need.UPLOAD, Need.DEPLOY));

    @Test
    void everyScopeIsAllowedExactlyWhatItGrantsOnItsOwnAppAndNothingOnAnother() throws Exception {
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data")).start()) {
            for (String app : List.of("own", "other")) {
                mayfly.cli("apps:create", app);
                Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve(app));
                assertThat(mayfly.push(repo, app, "v1").exit()).isZero();
            }
            Map<String, String> tokens = new LinkedHashMap<>();
            tokens.put("admin", mayfly.token());
            for (String scope : List.of("read", "upload", "deploy"))
                tokens.put(scope, create(mayfly, scope, "own", null));

            List<String> wrong = new ArrayList<>();
            int cells = 0;
            for (var token : tokens.entrySet()) {
                for (Family family : FAMILIES) {
                    for (String app : List.of("own", "other")) {
                        boolean own = app.equals("own") || token.getKey().equals("admin");
                        boolean expected = own && GRANTS.get(token.getKey()).contains(family.need());
                        String answer = call(mayfly, token.getValue(), family, app);
                        boolean allowed = !answer.startsWith("401") && !answer.startsWith("403");
                        cells++;
                        if (allowed != expected) {
                            wrong.add(token.getKey() + " x " + family.name() + " x " + app + ": expected "
                                    + (expected ? "allowed" : "denied") + ", got " + answer);
                        }
                    }
                }
            }
            assertThat(wrong)
                    .as("cells out of " + cells + " that answered wrongly")
                    .isEmpty();

            // A read token lists only its own app.
            JsonNode listed = Json.MAPPER.readTree(send(tokens.get("read"), "GET", "/api/v1/apps", null, mayfly)
                    .body());
            assertThat(listed).hasSize(1);
            assertThat(listed.get(0).path("name").asText()).isEqualTo("own");

            // /metrics: a read token sees its own app's series only; the JVM's and the process's are the admin's.
            for (String app : List.of("own", "other"))
                assertThat(mayfly.visit(app, "/").statusCode()).isEqualTo(200);
            String series = "mayfly_router_requests_seconds_count\\{app=\"%s\"} [1-9]";
            String ownMetrics = Eventually.until(
                    Duration.ofSeconds(10),
                    () -> send(tokens.get("read"), "GET", "/metrics", null, mayfly)
                            .body(),
                    body -> body.matches("(?s).*" + series.formatted("own") + ".*"),
                    "own's request count in /metrics");
            assertThat(ownMetrics).doesNotContain("app=\"other\"", "jvm_", "process_", "system_cpu");
            HttpResponse<String> admin = send(mayfly.token(), "GET", "/metrics", null, mayfly);
            assertThat(admin.body())
                    .containsPattern(series.formatted("own"))
                    .containsPattern(series.formatted("other"))
                    .contains("jvm_memory_used_bytes");
            assertThat(send("not-a-token", "GET", "/metrics", null, mayfly).statusCode())
                    .isEqualTo(401);

            // Expired and revoked tokens are refused with 401 saying which.
            String shortLived = create(mayfly, "read", "own", "1m");
            String revoked = create(mayfly, "read", "own", null);
            String revokedId = Json.MAPPER
                    .readTree(send(mayfly.token(), "GET", "/api/v1/tokens", null, mayfly)
                            .body())
                    .findParents("scope")
                    .stream()
                    .filter(t -> t.path("revokedAt").isNull())
                    .reduce((a, b) -> b)
                    .orElseThrow()
                    .path("id")
                    .asText();
            assertThat(mayfly.cli("tokens:revoke", revokedId).exit()).isZero();
            HttpResponse<String> r = send(revoked, "GET", "/api/v1/apps/own", null, mayfly);
            assertThat(r.statusCode()).isEqualTo(401);
            assertThat(r.body()).contains("revoked");
            expireInDatabase(mayfly, shortLived);
            HttpResponse<String> e = send(shortLived, "GET", "/api/v1/apps/own", null, mayfly);
            assertThat(e.statusCode()).isEqualTo(401);
            assertThat(e.body()).contains("expired");
            assertThat(mayfly.cli("tokens").out()).contains("revoked", "read", "admin");
        }
    }

    @Test
    void destroyingAnAppRevokesItsTokensSoNoneReachesTheAppMadeAgainUnderItsName() throws Exception {
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data")).start()) {
            mayfly.cli("apps:create", "x");
            String deploy = create(mayfly, "deploy", "x", null);
            assertThat(send(deploy, "GET", "/api/v1/apps/x", null, mayfly).statusCode())
                    .isEqualTo(200);

            assertThat(mayfly.cli("apps:destroy", "x", "--confirm", "x").exit()).isZero();
            assertThat(mayfly.cli("apps:create", "x").exit()).isZero();

            for (String[] call : List.of(
                    new String[] {"GET", "/api/v1/apps/x"},
                    new String[] {"POST", "/api/v1/apps/x/scale"},
                    new String[] {"GET", "/api/v1/apps/x/config"})) {
                HttpResponse<String> r =
                        send(deploy, call[0], call[1], call[0].equals("POST") ? "{\"instances\": 0}" : null, mayfly);
                assertThat(r.statusCode()).as(call[1] + ": " + r.body()).isEqualTo(401);
                assertThat(r.body()).contains("was revoked", "(app x was destroyed)", "ask an admin for a new token");
            }
            MayflyProcess.Result fetch = MayflyProcess.run(
                    mayfly.data,
                    Map.of(),
                    List.of(
                            "git",
                            "ls-remote",
                            "http://mayfly:" + deploy + "@127.0.0.1:" + mayfly.apiPort + "/git/x.git"));
            assertThat(fetch.exit()).as(fetch.out()).isNotZero();
            assertThat(fetch.out()).contains("Authentication failed");
            assertThat(mayfly.cli("audit", "-a", "x").out()).contains("destroy", "revoked 1 token");
            assertThat(mayfly.cli("tokens").out()).contains("revoked");
        }
    }

    /** Makes a token with the CLI, as an admin would; returns its secret. */
    static String create(MayflyProcess mayfly, String scope, String app, String expires) throws Exception {
        List<String> args = new ArrayList<>(List.of("tokens:create", "--app", app, "--scope", scope));
        if (expires != null) args.addAll(List.of("--expires", expires));
        MayflyProcess.Result r = mayfly.cli(args.toArray(String[]::new));
        assertThat(r.exit()).as(r.out()).isZero();
        return r.out().lines().filter(l -> l.startsWith("mf_")).findFirst().orElseThrow();
    }

    /** The clock cannot be moved, so the test moves the token's expiry into the past, as time would. */
    private static void expireInDatabase(MayflyProcess mayfly, String secret) throws Exception {
        var db = io.mayfly.server.store.Database.sqlite(mayfly.data.resolve("mayfly.db"));
        String hash = java.util.HexFormat.of()
                .formatHex(java.security.MessageDigest.getInstance("SHA-256")
                        .digest(secret.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        db.useHandle(h ->
                h.execute("UPDATE tokens SET expires_at = ? WHERE hash = ?", System.currentTimeMillis() - 1000, hash));
    }

    private static String call(MayflyProcess mayfly, String token, Family f, String app) throws Exception {
        String path = f.path().replace("{app}", app);
        if (f.method().startsWith("GIT-")) {
            String url = "http://mayfly:" + token + "@127.0.0.1:" + mayfly.apiPort + "/git/" + path + ".git";
            MayflyProcess.Result r = f.method().equals("GIT-FETCH")
                    ? MayflyProcess.run(mayfly.data, Map.of(), List.of("git", "ls-remote", url))
                    : MayflyProcess.run(
                            mayfly.data.resolveSibling(app),
                            Map.of(),
                            List.of("git", "push", url, "HEAD:refs/heads/matrix"));
            if (r.exit() == 0) return "git ok";
            if (r.out().contains("403")) return "403 " + r.out().strip();
            if (r.out().contains("401") || r.out().contains("Authentication failed"))
                return "401 " + r.out().strip();
            return "git failed: " + r.out().strip();
        }
        HttpResponse<String> r =
                send(token, f.method(), path, f.body() == null ? null : f.body().replace("{app}", app), mayfly);
        return r.statusCode() + " " + r.body().lines().findFirst().orElse("");
    }

    static HttpResponse<String> send(String token, String method, String path, String body, MayflyProcess mayfly)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mayfly.apiPort + path))
                .timeout(Duration.ofMinutes(2))
                .header("Authorization", "Bearer " + token);
        b.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
