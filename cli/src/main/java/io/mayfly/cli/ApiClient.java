package io.mayfly.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JavaType;
import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * Calls the REST API under {@code /api/v1} with the bearer token, and turns every way a call can fail
 * (unreachable server, refused token, an error answer) into a {@link CliError} the user can act on.
 */
public final class ApiClient {
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private final ServerAddress server;
    private final HttpClient http;

    public ApiClient(ServerAddress server) {
        this.server = server;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .build();
    }

    public ServerAddress server() {
        return server;
    }

    /** The answer's body as sent, for {@code --json}. */
    public String get(String path) {
        return send(request(path, DEFAULT_TIMEOUT).GET().build());
    }

    public <T> T get(String path, Class<T> type) {
        return parse(get(path), Json.MAPPER.constructType(type), path);
    }

    public <T> List<T> getList(String path, Class<T> element) {
        return parse(get(path), Json.MAPPER.getTypeFactory().constructCollectionType(List.class, element), path);
    }

    /** {@code timeout} bounds the wait for the answer: some calls (a rollback's deploy) legitimately take a minute. */
    public <T> T post(String path, Object body, Class<T> type, Duration timeout) {
        HttpRequest request = request(path, timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(body)))
                .build();
        return parse(send(request), Json.MAPPER.constructType(type), path);
    }

    public <T> T put(String path, Object body, Class<T> type) {
        HttpRequest request = request(path, DEFAULT_TIMEOUT)
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(Json.write(body)))
                .build();
        return parse(send(request), Json.MAPPER.constructType(type), path);
    }

    public <T> T patch(String path, Object body, Class<T> type, Duration timeout) {
        HttpRequest request = request(path, timeout)
                .header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString(Json.write(body)))
                .build();
        return parse(send(request), Json.MAPPER.constructType(type), path);
    }

    public void delete(String path) {
        send(request(path, DEFAULT_TIMEOUT).DELETE().build());
    }

    /** Hands each line of a text answer to {@code line} as soon as it arrives; returns when the server ends the answer. */
    public void streamLines(String path, Consumer<String> line) {
        HttpRequest request = request(path, DEFAULT_TIMEOUT).GET().build();
        HttpResponse<InputStream> response = exchange(request, HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = response.body()) {
            if (response.statusCode() / 100 != 2) {
                throw failure(request, response.statusCode(), new String(body.readAllBytes(), StandardCharsets.UTF_8));
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
            for (String next = reader.readLine(); next != null; next = reader.readLine()) {
                line.accept(next);
            }
        } catch (IOException e) {
            throw new CliError(
                    "the log stream from " + server.serverUrl() + " broke off: " + e.getMessage(),
                    "run the command again; if it keeps happening, see the server's log");
        }
    }

    /** Streams {@code body} (of {@code length} bytes) as the request body; the file is never read into memory. */
    public <T> T upload(
            String path,
            java.util.function.Supplier<java.io.InputStream> body,
            long length,
            java.util.Map<String, String> headers,
            Class<T> type,
            Duration timeout) {
        HttpRequest.Builder b = request(path, timeout)
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(body), length));
        headers.forEach(b::header);
        HttpRequest request = b.build();
        return parse(send(request), Json.MAPPER.constructType(type), path);
    }

    /** Encodes an app name (or any user input) so it stays one path segment. */
    public static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private HttpRequest.Builder request(String path, Duration timeout) {
        return HttpRequest.newBuilder(URI.create(server.apiBase() + path))
                .timeout(timeout)
                .header("Authorization", "Bearer " + server.token())
                .header("Accept", "application/json, text/plain");
    }

    private String send(HttpRequest request) {
        HttpResponse<String> response = exchange(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (response.statusCode() / 100 != 2) {
            throw failure(request, response.statusCode(), response.body());
        }
        return response.body();
    }

    private <T> HttpResponse<T> exchange(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        try {
            return http.send(request, handler);
        } catch (ConnectException e) {
            throw unreachable();
        } catch (HttpConnectTimeoutException e) {
            throw new CliError(
                    "cannot reach the Mayfly server at " + server.serverUrl() + " (no answer to connect within 10 s)",
                    "check that the address is right and the server is running, or set MAYFLY_URL");
        } catch (HttpTimeoutException e) {
            throw new CliError(
                    "the Mayfly server at " + server.serverUrl() + " did not answer " + describe(request) + " within "
                            + request.timeout().map(Duration::toSeconds).orElse(0L) + " s",
                    "it may be busy or stuck; see its log, then try again");
        } catch (IOException e) {
            // The JDK sometimes wraps a refused connection in a plain IOException.
            if (causedBy(e, ConnectException.class)) throw unreachable();
            throw new CliError(
                    "talking to the Mayfly server at " + server.serverUrl() + " failed during " + describe(request)
                            + ": " + e,
                    "check that the server is running and reachable, then try again");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliError("interrupted while waiting for " + describe(request));
        }
    }

    private CliError unreachable() {
        return new CliError("cannot reach the Mayfly server at " + server.serverUrl()
                + " (connection refused). Start it with ./mayfly server, or set MAYFLY_URL.");
    }

    private CliError failure(HttpRequest request, int status, String body) {
        Views.ErrorView error = errorView(body);
        if (status == 401) {
            String detail = error != null && error.error() != null ? " (" + error.error() + ")" : "";
            return new CliError(
                    "the server at " + server.serverUrl() + " refused the token from " + server.tokenSource() + detail,
                    server.tokenSource().contains(ServerAddress.TOKEN_VARIABLE)
                            ? "check " + ServerAddress.TOKEN_VARIABLE
                                    + ", or unset it to use the admin token in the data directory"
                            : "that token does not belong to this server: set " + ServerAddress.TOKEN_VARIABLE
                                    + " to a valid token, or pass --data DIR of the server that wrote it");
        }
        if (error != null && error.error() != null) {
            return new CliError(error.error(), error.hint());
        }
        return new CliError(
                "the server at " + server.serverUrl() + " answered HTTP " + status + " to " + describe(request),
                body == null || body.isBlank() ? "see the server's log" : "it said: " + abbreviate(body.strip()));
    }

    private static Views.ErrorView errorView(String body) {
        if (body == null || body.isBlank()) return null;
        try {
            return Json.read(body, Views.ErrorView.class);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private <T> T parse(String body, JavaType type, String path) {
        try {
            return Json.MAPPER.readValue(body, type);
        } catch (JsonProcessingException e) {
            throw new CliError(
                    "the server at " + server.serverUrl() + " sent an answer to " + path + " this client cannot read: "
                            + e.getOriginalMessage(),
                    "the server and the client may be different Mayfly versions");
        }
    }

    private static String describe(HttpRequest request) {
        return request.method() + " " + request.uri().getRawPath();
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) return true;
        }
        return false;
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "...";
    }
}
