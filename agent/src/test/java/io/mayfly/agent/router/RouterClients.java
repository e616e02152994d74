package io.mayfly.agent.router;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Clients for router tests. The JDK client cannot set Host itself and APP.localhost names need
 * not resolve, so it talks to the router as to a forward proxy: it then sends Host APP.localhost
 * and an absolute URI, both of which the router accepts. {@link #raw} writes exact bytes.
 */
final class RouterClients {
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    private RouterClients() {}

    static HttpClient through(InetSocketAddress router) {
        return HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .proxy(ProxySelector.of(router))
                .connectTimeout(TIMEOUT)
                .build();
    }

    static HttpRequest.Builder request(InetSocketAddress router, String app, String path) {
        return HttpRequest.newBuilder(URI.create("http://" + app + ".localhost:" + router.getPort() + path))
                .timeout(TIMEOUT);
    }

    static HttpResponse<String> get(HttpClient client, InetSocketAddress router, String app, String path)
            throws IOException, InterruptedException {
        return client.send(request(router, app, path).build(), HttpResponse.BodyHandlers.ofString());
    }

    record RawResponse(int status, Map<String, String> headers, String body) {}

    /** Sends exactly these request lines and headers (Connection: close is added) and reads the response to EOF. */
    static RawResponse raw(InetSocketAddress router, String requestLine, String... headers) throws IOException {
        try (Socket socket = new Socket(router.getAddress(), router.getPort())) {
            socket.setSoTimeout((int) TIMEOUT.toMillis());
            StringBuilder request = new StringBuilder(requestLine).append("\r\n");
            for (String header : headers) {
                request.append(header).append("\r\n");
            }
            request.append("Connection: close\r\n\r\n");
            OutputStream out = socket.getOutputStream();
            out.write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            String text = all.toString(StandardCharsets.UTF_8);
            int headEnd = text.indexOf("\r\n\r\n");
            return new RawResponse(
                    status(text.substring(0, headEnd)),
                    headers(text.substring(0, headEnd)),
                    text.substring(headEnd + 4));
        }
    }

    /** Reads one response with a Content-Length body off a kept-alive connection, leaving the connection open. */
    static RawResponse readOne(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException(
                        "the connection closed after " + head.size() + " bytes of a response head: " + head);
            }
            head.write(b);
            matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        Map<String, String> headers = headers(text.substring(0, text.length() - 4));
        byte[] body = in.readNBytes(Integer.parseInt(headers.getOrDefault("content-length", "0")));
        return new RawResponse(status(text), headers, new String(body, StandardCharsets.UTF_8));
    }

    private static int status(String head) {
        return Integer.parseInt(head.substring(0, head.indexOf("\r\n") < 0 ? head.length() : head.indexOf("\r\n"))
                .split(" ")[1]);
    }

    private static Map<String, String> headers(String head) {
        String[] lines = head.split("\r\n");
        Map<String, String> parsed = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            parsed.put(
                    lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                    lines[i].substring(colon + 1).trim());
        }
        return parsed;
    }
}
