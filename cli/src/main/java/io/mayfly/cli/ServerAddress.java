package io.mayfly.cli;

import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the Mayfly server is and which token to show it. {@code serverUrl} is what the user sees (and sets as
 * MAYFLY_URL), {@code tokenSource} says where the token came from so a refused token can be traced.
 */
public record ServerAddress(String serverUrl, String token, String tokenSource) {
    static final String URL_VARIABLE = "MAYFLY_URL";
    static final String TOKEN_VARIABLE = "MAYFLY_TOKEN";
    static final String DATA_VARIABLE = "MAYFLY_DATA";
    private static final String API_PREFIX = "/api/v1";

    /**
     * MAYFLY_URL and MAYFLY_TOKEN win; otherwise the running server's own files in the data directory
     * ({@code dataOption}, else MAYFLY_DATA, else ~/.mayfly): server.json for the address, admin.token for the token.
     */
    public static ServerAddress discover(Path dataOption, Environment env) {
        Path data = dataDirectory(dataOption, env);
        String url = env.variable(URL_VARIABLE);
        if (url == null) {
            url = readServerJson(data);
        }
        String token = env.variable(TOKEN_VARIABLE);
        String tokenSource = "the " + TOKEN_VARIABLE + " environment variable";
        if (token == null) {
            Path file = data.resolve("admin.token");
            token = readToken(file);
            tokenSource = file.toString();
        }
        return new ServerAddress(withoutApiPrefix(url), token, tokenSource);
    }

    static Path dataDirectory(Path dataOption, Environment env) {
        if (dataOption != null) return dataOption;
        String fromEnv = env.variable(DATA_VARIABLE);
        return fromEnv != null ? Path.of(fromEnv) : env.home().resolve(".mayfly");
    }

    /** The base every API path is appended to. */
    public String apiBase() {
        return serverUrl + API_PREFIX;
    }

    private static String readServerJson(Path data) {
        Path file = data.resolve("server.json");
        if (!Files.exists(file)) {
            throw new CliError(
                    "no Mayfly server found: " + URL_VARIABLE + " is not set and " + file + " does not exist",
                    "start the server with ./mayfly server (it writes that file), pass --data DIR of a running server, "
                            + "or set " + URL_VARIABLE + " and " + TOKEN_VARIABLE);
        }
        try {
            Views.ServerInfo info = Json.read(Files.readString(file), Views.ServerInfo.class);
            if (info.apiUrl() == null || info.apiUrl().isBlank())
                throw new IllegalArgumentException("it has no apiUrl");
            return info.apiUrl();
        } catch (IOException | IllegalArgumentException e) {
            throw new CliError(
                    "cannot read the server address from " + file + ": " + e.getMessage(),
                    "the server writes this file when it starts: restart it with ./mayfly server, or set "
                            + URL_VARIABLE);
        }
    }

    private static String readToken(Path file) {
        if (!Files.exists(file)) {
            throw new CliError(
                    "no API token: " + TOKEN_VARIABLE + " is not set and " + file + " does not exist",
                    "set " + TOKEN_VARIABLE
                            + " to an API token, or run as the user whose data directory holds the server's admin.token");
        }
        try {
            String token = Files.readString(file)
                    .strip()
                    .lines()
                    .findFirst()
                    .orElse("")
                    .strip();
            if (token.isEmpty()) throw new CliError(file + " is empty", "set " + TOKEN_VARIABLE + " to an API token");
            return token;
        } catch (IOException e) {
            throw new CliError(
                    "cannot read the API token from " + file + ": " + e.getMessage(),
                    "check the file's permissions, or set " + TOKEN_VARIABLE);
        }
    }

    /** Accepts both http://host:port and http://host:port/api/v1 so either form works as MAYFLY_URL. */
    private static String withoutApiPrefix(String url) {
        String trimmed = url.strip();
        while (trimmed.endsWith("/")) trimmed = trimmed.substring(0, trimmed.length() - 1);
        if (trimmed.endsWith(API_PREFIX)) trimmed = trimmed.substring(0, trimmed.length() - API_PREFIX.length());
        URI uri;
        try {
            uri = URI.create(trimmed);
        } catch (IllegalArgumentException e) {
            uri = null;
        }
        if (uri == null
                || uri.getHost() == null
                || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
            throw new CliError(
                    "'" + url + "' is not a server URL", "use the form http://HOST:PORT, e.g. http://127.0.0.1:7070");
        }
        return trimmed;
    }
}
