package io.mayfly.agent.remote;

import io.mayfly.agent.artifacts.ArtifactCache;
import io.mayfly.wire.AgentViews;
import io.mayfly.wire.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;

/**
 * The server's agent API as one agent holds it: its token on every request, the paths under
 * {@code /api/v1/agents/<name>}, and what an answer other than 2xx means. It keeps nothing of the conversation:
 * whether the server knows this agent is {@link Enrolment}'s business.
 */
final class ServerApi {
    private final URI server;
    private final String name;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    ServerApi(URI server, String name, String token) {
        this.server = server;
        this.name = name;
        this.token = token;
    }

    URI server() {
        return server;
    }

    String name() {
        return name;
    }

    HttpResponse<String> register(AgentViews.Registration registration) throws IOException, InterruptedException {
        return send("POST", "/api/v1/agents/" + name, Json.write(registration));
    }

    HttpResponse<String> desired() throws IOException, InterruptedException {
        return send("GET", "/api/v1/agents/" + name + "/desired", null);
    }

    /** The desired state as server-sent events, one line at a time; the caller closes the body. */
    HttpResponse<Stream<String>> desiredStream() throws IOException, InterruptedException {
        HttpRequest request = authorized("/api/v1/agents/" + name + "/desired")
                .header("Accept", "text/event-stream")
                .GET()
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofLines());
    }

    HttpResponse<String> status(AgentViews.Status status) throws IOException, InterruptedException {
        return send("POST", "/api/v1/agents/" + name + "/status", Json.write(status));
    }

    HttpResponse<String> lines(AgentViews.DeployLines lines) throws IOException, InterruptedException {
        return send("POST", "/api/v1/agents/" + name + "/lines", Json.write(lines));
    }

    /**
     * Asks the server to run a release's staged test against {@code request.port()} here, waiting up to {@code bound}
     * for its answer: why the test failed, or null. An unreachable server fails the test: the old instances stay.
     */
    String stagedTest(AgentViews.StagedTestRequest request, Duration bound) throws InterruptedException {
        try {
            HttpResponse<String> r = http.send(
                    authorized("/api/v1/agents/" + name + "/tests")
                            .timeout(bound)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(Json.write(request)))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            require(r, "the staged test of " + request.app() + " v" + request.release());
            return Json.read(r.body(), AgentViews.StagedTestResult.class).failure();
        } catch (IOException e) {
            return "the server did not run it: " + e.getMessage();
        }
    }

    /** An assigned artifact from {@code cache}, downloaded from the server first if the cache lacks it. */
    Path fetch(ArtifactCache cache, AgentViews.AssignedArtifact artifact, byte[] signingKey)
            throws IOException, InterruptedException {
        String path = "/api/v1/agents/" + name + "/blobs/" + artifact.sha256();
        return cache.fetch(
                artifact.name(),
                artifact.sha256(),
                artifact.signature(),
                signingKey,
                server + path,
                () -> http.send(authorized(path).GET().build(), HttpResponse.BodyHandlers.ofInputStream()));
    }

    /** Fails unless the answer to {@code what} is a 2xx, saying whether the token was refused. */
    static void require(HttpResponse<String> r, String what) throws IOException {
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            throw new IOException(
                    "the server refused the agent token for " + what + " (HTTP " + r.statusCode() + "): " + r.body());
        }
        if (r.statusCode() / 100 != 2)
            throw new IOException(what + " answered HTTP " + r.statusCode() + ": " + r.body());
    }

    private HttpRequest.Builder authorized(String path) {
        return HttpRequest.newBuilder(server.resolve(path)).header("Authorization", "Bearer " + token);
    }

    private HttpResponse<String> send(String method, String path, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = authorized(path).timeout(Duration.ofSeconds(10)).header("Accept", "application/json");
        if (body != null) b.header("Content-Type", "application/json");
        b.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
