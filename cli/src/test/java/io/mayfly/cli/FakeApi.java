package io.mayfly.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A real HTTP server on a free loopback port that answers the API paths a test sets up with canned bodies
 * and records every request the CLI sent.
 */
final class FakeApi implements AutoCloseable {
    record Received(String method, String pathAndQuery, String authorization, String contentType, String body) {}

    final List<Received> received = new CopyOnWriteArrayList<>();
    private final Map<String, HttpHandler> routes = new ConcurrentHashMap<>();
    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();

    private FakeApi() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(threads);
        server.createContext("/", this::dispatch);
        server.start();
    }

    static FakeApi start() throws IOException {
        return new FakeApi();
    }

    /** What MAYFLY_URL would be: the server's root, the API lives under /api/v1. */
    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    FakeApi answer(String method, String path, int status, String body) {
        return handle(method, path, exchange -> respond(exchange, status, "application/json", body));
    }

    FakeApi answer(String method, String path, int status, Object record) {
        return answer(method, path, status, Json.write(record));
    }

    FakeApi handle(String method, String path, HttpHandler handler) {
        routes.put(method + " " + path, handler);
        return this;
    }

    Received only() {
        if (received.size() != 1) throw new AssertionError("expected one request, got " + received);
        return received.get(0);
    }

    static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
        exchange.close();
    }

    private void dispatch(HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        String path = exchange.getRequestURI().getRawPath();
        String query = exchange.getRequestURI().getRawQuery();
        received.add(new Received(
                exchange.getRequestMethod(),
                query == null ? path : path + "?" + query,
                exchange.getRequestHeaders().getFirst("Authorization"),
                exchange.getRequestHeaders().getFirst("Content-Type"),
                body));
        HttpHandler handler = routes.get(exchange.getRequestMethod() + " " + path);
        if (handler == null) {
            respond(
                    exchange,
                    404,
                    "application/json",
                    Json.write(new Views.ErrorView(
                            404,
                            "no such endpoint: " + exchange.getRequestMethod() + " " + path,
                            "the API lives under /api/v1")));
            return;
        }
        handler.handle(exchange);
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
