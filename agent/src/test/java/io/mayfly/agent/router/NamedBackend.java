package io.mayfly.agent.router;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/** A real HTTP backend on a free loopback port that answers its name and counts what it saw. */
final class NamedBackend implements AutoCloseable {
    final String name;
    private final HttpServer server;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final AtomicInteger requests = new AtomicInteger();
    private final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
    private final Map<String, HttpHandler> handlers = new ConcurrentHashMap<>();
    private volatile Map<String, String> lastHeaders = Map.of();

    private NamedBackend(String name) throws IOException {
        this.name = name;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 128);
        server.setExecutor(threads);
        server.createContext("/", this::serve);
        server.start();
    }

    static NamedBackend start(String name) throws IOException {
        return new NamedBackend(name);
    }

    /** Serves path (exact match) with handler instead of answering the backend's name. */
    NamedBackend on(String path, HttpHandler handler) {
        handlers.put(path, handler);
        return this;
    }

    Backend backend() {
        return new Backend(name, "127.0.0.1", port());
    }

    int port() {
        return server.getAddress().getPort();
    }

    int requests() {
        return requests.get();
    }

    /** Distinct TCP connections the router opened to this backend. */
    int connections() {
        return clientPorts.size();
    }

    Map<String, String> lastHeaders() {
        return lastHeaders;
    }

    private void serve(HttpExchange exchange) throws IOException {
        requests.incrementAndGet();
        clientPorts.add(exchange.getRemoteAddress().getPort());
        Map<String, String> headers = new ConcurrentHashMap<>();
        exchange.getRequestHeaders().forEach((key, values) -> headers.put(key.toLowerCase(), String.join(",", values)));
        lastHeaders = headers;
        HttpHandler handler = handlers.get(exchange.getRequestURI().getPath());
        if (handler != null) {
            handler.handle(exchange);
            return;
        }
        exchange.getRequestBody().readAllBytes();
        reply(exchange, 200, name);
    }

    static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
