package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An app built from a repository elsewhere (a forge over HTTPS): push events from GitHub, GitLab and Gitea in their
 * documented shapes, each with a valid and a forged signature, and each sent again (its delivery id seen before: nothing
 * happens); git:sync; a scheduled rebuild that finds nothing changed.
 */
class WebhooksTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path tmp;

    @Test
    void signedPushEventsFromEachForgeBuildAndForgedOnesChangeNothing() throws Exception {
        Path work = MayflyProcess.checkoutExample("hello", tmp.resolve("upstream"));
        Files.writeString(
                work.resolve("mayfly.toml"),
                Files.readString(work.resolve("mayfly.toml"))
                        .replace("artifact = \"hello\"", "artifact = \"hello\"\nschedule = \"daily\""));
        try (HttpsForge forges = HttpsForge.start(tmp.resolve("forge"));
                MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data"))
                        .jvm(forges.jvmOptions())
                        .start()) {
            Path forge = forges.create("hello.git");
            String cloneUrl = forges.url("hello.git");
            MayflyProcess.Result created = mayfly.cli("apps:create", "hooked", "--repo", cloneUrl, "--branch", "main");
            assertThat(created.exit()).as(created.out()).isZero();
            Matcher m = Pattern.compile("secret:\\s+([0-9a-f]+)").matcher(created.out());
            assertThat(m.find()).as(created.out()).isTrue();
            String secret = m.group(1);

            int version = 0;
            Map<String, Delivery> delivered = new java.util.LinkedHashMap<>();
            for (String sender : List.of("github", "gitlab", "gitea")) {
                version++;
                MayflyProcess.setVersion(work, "hooked-" + version);
                String sha = commitAndPushUpstream(work, forge, "v" + version);
                String payload = payload(sender, sha, cloneUrl);
                int releasesBefore = mayfly.releases("hooked").size();
                String delivery = java.util.UUID.randomUUID().toString();

                // A forgery with the delivery's id is refused, and does not keep the real delivery out.
                HttpResponse<String> forged = hook(mayfly, sender, payload, "not-the-secret", delivery);
                assertThat(forged.statusCode())
                        .as(sender + " forged: " + forged.body())
                        .isEqualTo(401);
                assertThat(forged.body()).contains("signature does not match");
                Thread.sleep(300);
                assertThat(mayfly.releases("hooked")).hasSize(releasesBefore);

                HttpResponse<String> valid = hook(mayfly, sender, payload, secret, delivery);
                assertThat(valid.statusCode()).as(sender + ": " + valid.body()).isEqualTo(202);
                assertThat(valid.body()).contains(sha);
                mayfly.awaitServing("hooked", "hooked-" + version, Duration.ofSeconds(60));
                delivered.put(sender, new Delivery(payload, delivery));
            }
            HttpResponse<String> otherBranch = hook(
                    mayfly,
                    "github",
                    payload("github", "0".repeat(40), "x").replace("refs/heads/main", "refs/heads/feature"),
                    secret,
                    java.util.UUID.randomUUID().toString());
            assertThat(otherBranch.statusCode()).isEqualTo(202);
            assertThat(otherBranch.body()).contains("ignored");

            MayflyProcess.Result sync = mayfly.cli("git:sync", "-a", "hooked", "--build-if-changed");
            assertThat(sync.exit()).as(sync.out()).isZero();
            assertThat(sync.out()).contains("nothing to build");

            int releases = mayfly.releases("hooked").size();
            HttpResponse<String> scheduled = mayfly.api("POST", "/api/v1/apps/hooked/schedule/run", "");
            assertThat(scheduled.statusCode()).as(scheduled.body()).isEqualTo(200);
            assertThat(scheduled.body()).contains("unchanged");
            assertThat(mayfly.releases("hooked")).hasSize(releases);
            assertThat(mayfly.cli("logs", "-a", "hooked", "-n", "300").out()).contains("no artifact changed");
            assertThat(mayfly.cli("audit", "-a", "hooked").out())
                    .contains("webhook github", "webhook gitlab", "webhook gitea");

            // Each delivery sent again, validly signed, after new code reached the forge: answered, and nothing is
            // built.
            MayflyProcess.setVersion(work, "hooked-never-delivered");
            commitAndPushUpstream(work, forge, "pushed, never delivered");
            int builds = builds(mayfly);
            for (var again : delivered.entrySet()) {
                HttpResponse<String> replay = hook(
                        mayfly,
                        again.getKey(),
                        again.getValue().payload(),
                        secret,
                        again.getValue().id());
                assertThat(replay.statusCode())
                        .as(again.getKey() + " replayed: " + replay.body())
                        .isEqualTo(200);
                assertThat(replay.body())
                        .contains("already handled", again.getValue().id());
            }
            Thread.sleep(2000);
            assertThat(builds(mayfly)).as("builds after the replays").isEqualTo(builds);
            assertThat(mayfly.visit("hooked", "/").body()).contains("hooked-3");
        }
    }

    /** A delivery as its sender sent it: the payload and the delivery id. */
    private record Delivery(String payload, String id) {}

    private static int builds(MayflyProcess mayfly) throws Exception {
        return io.mayfly.wire.Json.MAPPER
                .readTree(mayfly.api("GET", "/api/v1/apps/hooked/builds", null).body())
                .size();
    }

    private static String commitAndPushUpstream(Path work, Path forge, String message) throws Exception {
        MayflyProcess.git(work, "add", "-A");
        MayflyProcess.git(work, "commit", "-q", "-m", message);
        MayflyProcess.git(work, "push", "-q", forge.toString(), "HEAD:main");
        return MayflyProcess.git(work, "rev-parse", "HEAD").out().trim();
    }

    /** The documented push payloads, trimmed to the fields a receiver reads plus a few that show their shape. */
    private static String payload(String sender, String sha, String cloneUrl) {
        return switch (sender) {
            case "gitlab" -> """
                    {"object_kind":"push","event_name":"push","before":"%s","after":"%s","ref":"refs/heads/main",
                     "checkout_sha":"%s","user_name":"Test","project":{"name":"hello","git_http_url":"%s","default_branch":"main"},
                     "commits":[{"id":"%s","message":"update"}],"total_commits_count":1}
                    """.formatted("0".repeat(40), sha, sha, cloneUrl, sha);
            default -> """
                    {"ref":"refs/heads/main","before":"%s","after":"%s","created":false,"deleted":false,
                     "repository":{"name":"hello","full_name":"test/hello","clone_url":"%s","default_branch":"main"},
                     "pusher":{"name":"test"},"head_commit":{"id":"%s","message":"update"}}
                    """.formatted("0".repeat(40), sha, cloneUrl, sha);
        };
    }

    private static HttpResponse<String> hook(
            MayflyProcess mayfly, String sender, String payload, String secret, String delivery) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + mayfly.apiPort + "/api/v1/hooks/hooked"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(payload));
        String hmac = hmac(secret, payload);
        switch (sender) {
            case "github" ->
                b.header("X-GitHub-Event", "push")
                        .header("X-GitHub-Delivery", delivery)
                        .header("X-Hub-Signature-256", "sha256=" + hmac)
                        .header("User-Agent", "GitHub-Hookshot/044aadd");
            case "gitlab" ->
                b.header("X-Gitlab-Event", "Push Hook")
                        .header("X-Gitlab-Token", secret)
                        .header("X-Gitlab-Event-UUID", delivery)
                        .header("Idempotency-Key", delivery);
            default ->
                b.header("X-Gitea-Event", "push")
                        .header("X-GitHub-Event", "push")
                        .header("X-Gitea-Delivery", delivery)
                        .header("X-GitHub-Delivery", delivery)
                        .header("X-Gitea-Signature", hmac);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String hmac(String secret, String body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
    }
}
