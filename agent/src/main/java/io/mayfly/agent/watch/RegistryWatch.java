package io.mayfly.agent.watch;

import io.mayfly.agent.Agent;
import io.mayfly.agent.StartRequest;
import io.mayfly.agent.artifacts.ArtifactCache;
import io.mayfly.agent.deploy.DeployOutcome;
import io.mayfly.agent.deploy.DeployStrategy;
import io.mayfly.agent.driver.InstanceStateFile;
import io.mayfly.wire.ArtifactSignatures;
import io.mayfly.wire.Json;
import io.mayfly.wire.Progress;
import io.mayfly.wire.RegistryViews;
import io.mayfly.wire.StagedTest;
import io.mayfly.wire.manifest.Manifest;
import io.mayfly.wire.manifest.ManifestException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pull model of unikernel hosts: watch {@code BASE/job/APP/build/latest}, and when the main artifact's sha256
 * changes, download it, check its hash and the server's Ed25519 signature, boot it, and switch to it only once it
 * is healthy; a failed health check keeps the old instance serving. Each poll is a conditional request (ETag =
 * sha256, answered 304 when nothing changed). Needs a token with read access to the app, nothing more.
 */
public final class RegistryWatch {
    private static final Pattern WATCH =
            Pattern.compile("^(https?://[^/]+(?:/.*?)?)/job/([a-z][a-z0-9-]{0,62})/build/latest/?$");

    private final URI base;
    private final String app;
    private final String token;
    private final Agent agent;
    private final Path dir;
    private final String pinnedKey;
    private final Consumer<String> log;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final ArtifactCache cache;
    private byte[] signingKey;
    private State state;

    /** What runs now, persisted so that a restarted agent keeps polling from where it was. */
    record State(String mainArtifact, String sha256, int build, String failedSha256) {}

    /** What one poll did. */
    public sealed interface Poll {
        record Unchanged(String sha256) implements Poll {}

        record Deployed(int build, String sha256, String instance) implements Poll {}

        record Failed(String sha256, String reason) implements Poll {}

        record NothingYet(String why) implements Poll {}
    }

    /** @param pinnedKey the fingerprint the server's signing key must have, or null to trust the key it serves */
    public RegistryWatch(String watchUrl, String token, Agent agent, Path dir, String pinnedKey, Consumer<String> log)
            throws IOException {
        Matcher m = WATCH.matcher(watchUrl);
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "--watch expects a URL like http://HOST:7070/job/APP/build/latest, got " + watchUrl);
        }
        this.base = URI.create(m.group(1));
        this.app = m.group(2);
        this.token = token;
        this.agent = agent;
        this.dir = dir;
        this.pinnedKey = pinnedKey;
        this.log = log;
        this.cache = new ArtifactCache(dir.resolve("cache"));
        Path stateFile = dir.resolve("watch.json");
        this.state = Files.exists(stateFile) ? InstanceStateFile.readJson(stateFile, State.class) : null;
    }

    public String app() {
        return app;
    }

    /** Polls every {@code interval} until interrupted; a failed poll is logged and retried at the next one. */
    public void run(Duration interval) {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Poll poll = pollOnce();
                if (!(poll instanceof Poll.Unchanged)) log.accept(describe(poll));
            } catch (IOException e) {
                log.accept("poll of " + base + "/job/" + app + "/build/latest failed: " + e.getMessage()
                        + "; retrying in " + interval.toSeconds() + " s");
            } catch (InterruptedException e) {
                return;
            }
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    public Poll pollOnce() throws IOException, InterruptedException {
        if (state != null && !agent.routed(app).isEmpty()) {
            HttpResponse<Void> head = follow(
                    "HEAD",
                    "/job/" + app + "/build/latest/artifact/" + state.mainArtifact(),
                    Map.of("If-None-Match", "\"" + state.sha256() + "\""),
                    HttpResponse.BodyHandlers.discarding());
            if (head.statusCode() == 304) return new Poll.Unchanged(state.sha256());
        }
        HttpResponse<String> latest =
                follow("GET", "/api/v1/apps/" + app + "/builds/latest", Map.of(), HttpResponse.BodyHandlers.ofString());
        if (latest.statusCode() == 404) return new Poll.NothingYet(app + " has no successful build yet");
        require(latest, "the latest build of " + app);
        RegistryViews.BuildDetail build = Json.read(latest.body(), RegistryViews.BuildDetail.class);
        RegistryViews.ArtifactDetail main = artifact(build, build.mainArtifact());
        if (state != null
                && main.sha256().equals(state.sha256())
                && !agent.routed(app).isEmpty()) return new Poll.Unchanged(main.sha256());
        if (state != null && main.sha256().equals(state.failedSha256())) return new Poll.Unchanged(state.sha256());
        return deploy(build, main);
    }

    private Poll deploy(RegistryViews.BuildDetail build, RegistryViews.ArtifactDetail main)
            throws IOException, InterruptedException {
        Manifest manifest;
        try {
            manifest = Manifest.parse("mayfly.toml of build #" + build.number(), build.manifest());
        } catch (ManifestException | NullPointerException e) {
            return remember(
                    new Poll.Failed(
                            main.sha256(),
                            "build #" + build.number() + " has no usable mayfly.toml: " + e.getMessage()),
                    main,
                    build);
        }
        Path image = fetch(main);
        Path initrd = manifest.build().initrd() == null
                ? null
                : fetch(artifact(build, manifest.build().initrd()));
        Manifest.Run run = manifest.run();
        StartRequest request = StartRequest.of(app, build.number(), manifest, image, initrd, run.args(), Map.of());
        return switch (DeployStrategy.named(run.strategy(), agent)
                .run(request, 1, run.drainTimeout(), StagedTest.NONE, Progress.NONE)) {
            case DeployOutcome.Live live ->
                remember(
                        new Poll.Deployed(
                                build.number(),
                                main.sha256(),
                                agent.routed(app).getFirst().id()),
                        main,
                        build);
            case DeployOutcome.Failed failed ->
                remember(
                        new Poll.Failed(
                                main.sha256(),
                                "build #" + build.number() + ": " + failed.reason()
                                        + (agent.routed(app).isEmpty() ? "" : "; the running instance keeps serving")),
                        main,
                        build);
        };
    }

    private Poll remember(Poll poll, RegistryViews.ArtifactDetail main, RegistryViews.BuildDetail build)
            throws IOException {
        state = switch (poll) {
            case Poll.Deployed d -> new State(main.name(), d.sha256(), build.number(), null);
            case Poll.Failed f ->
                state == null
                        ? new State(main.name(), null, 0, f.sha256())
                        : new State(state.mainArtifact(), state.sha256(), state.build(), f.sha256());
            default -> state;
        };
        InstanceStateFile.writeJson(dir.resolve("watch.json"), state);
        return poll;
    }

    /** Downloads an artifact into the cache (once per sha256), checking its hash and its signature. */
    private Path fetch(RegistryViews.ArtifactDetail artifact) throws IOException, InterruptedException {
        return cache.fetch(
                artifact.name(),
                artifact.sha256(),
                artifact.signature(),
                signingKey(),
                artifact.url(),
                () -> follow(
                        "GET",
                        URI.create(artifact.url()).getRawPath(),
                        Map.of(),
                        HttpResponse.BodyHandlers.ofInputStream()));
    }

    private byte[] signingKey() throws IOException, InterruptedException {
        if (signingKey == null) {
            HttpResponse<String> r =
                    follow("GET", "/api/v1/signing-key", Map.of(), HttpResponse.BodyHandlers.ofString());
            require(r, "the server's signing key");
            RegistryViews.SigningKeyView key = Json.read(r.body(), RegistryViews.SigningKeyView.class);
            byte[] der = Base64.getDecoder().decode(key.publicKey());
            if (pinnedKey != null && !pinnedKey.equals(ArtifactSignatures.fingerprint(der))) {
                throw new IOException("the server's signing key has fingerprint " + ArtifactSignatures.fingerprint(der)
                        + ", not the pinned " + pinnedKey + "; not trusting it");
            }
            signingKey = der;
        }
        return signingKey;
    }

    private static RegistryViews.ArtifactDetail artifact(RegistryViews.BuildDetail build, String name)
            throws IOException {
        return build.artifacts().stream()
                .filter(a -> a.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IOException(
                        "build #" + build.number() + " of " + build.app() + " has no artifact " + name));
    }

    /** A request that follows the registry's redirects (latest -> build N) itself, keeping the token on the same server. */
    private <T> HttpResponse<T> follow(
            String method, String path, Map<String, String> headers, HttpResponse.BodyHandler<T> body)
            throws IOException, InterruptedException {
        URI uri = base.resolve(path.startsWith("/") ? path : "/" + path);
        for (int hop = 0; hop < 5; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri)
                    .timeout(Duration.ofSeconds(60))
                    .method(method, HttpRequest.BodyPublishers.noBody())
                    .header("Authorization", "Bearer " + token)
                    .header("Accept", "application/json");
            headers.forEach(b::header);
            HttpResponse<T> r = http.send(b.build(), body);
            if (r.statusCode() / 100 != 3 || r.statusCode() == 304) return r;
            URI from = uri;
            uri = from.resolve(r.headers()
                    .firstValue("Location")
                    .orElseThrow(() -> new IOException(from + " redirected without a Location")));
            if (!uri.getAuthority().equals(base.getAuthority()))
                throw new IOException("the registry redirected to another server: " + uri);
        }
        throw new IOException("too many redirects from " + base + path);
    }

    private static void require(HttpResponse<String> r, String what) throws IOException {
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            throw new IOException(
                    "the registry refused the token for " + what + " (HTTP " + r.statusCode() + "): " + r.body());
        }
        if (r.statusCode() != 200)
            throw new IOException("reading " + what + " answered HTTP " + r.statusCode() + ": " + r.body());
    }

    public static String describe(Poll poll) {
        return switch (poll) {
            case Poll.Unchanged u -> "unchanged: sha256:" + u.sha256();
            case Poll.Deployed d -> "deployed build #" + d.build() + " (sha256:" + d.sha256() + ") as " + d.instance();
            case Poll.Failed f -> "not deployed: " + f.reason();
            case Poll.NothingYet n -> "waiting: " + n.why();
        };
    }
}
