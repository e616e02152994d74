package io.mayfly.agent.driver.firecracker;

import com.fasterxml.jackson.databind.JsonNode;
import io.mayfly.wire.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A minimal client of Firecracker's API (src/firecracker/swagger/firecracker.yaml in the Firecracker repository):
 * one HTTP/1.1 {@code PUT} over its unix socket per connection, the status and the body back. Every exchange is
 * bounded by a timeout (the channel is closed under a read that hangs), because a wedged VMM must hold up neither
 * a start nor a stop.
 */
final class FirecrackerApi {
    /** For a stop: a VMM that does not answer quickly gets SIGTERM instead. */
    static final Duration TIMEOUT = Duration.ofSeconds(2);

    private static final int MAX_HEAD = 8192;
    private static final int MAX_BODY = 1 << 20;

    /** Firecracker's answer: 204 with no body when it did what was asked, 4xx/5xx with {@code {"fault_message": "..."}} when not. */
    record Response(int status, String body) {
        boolean ok() {
            return status / 100 == 2;
        }

        /** Firecracker's own words about a refusal: the body's fault_message, else the body itself. */
        String faultMessage() {
            try {
                JsonNode json = Json.MAPPER.readTree(body);
                if (json != null && json.hasNonNull("fault_message"))
                    return json.get("fault_message").asText();
            } catch (IOException notJson) {
                // said in some other form: pass it on as it is
            }
            return body.isBlank() ? "(no message)" : body.trim();
        }
    }

    private FirecrackerApi() {}

    /**
     * Waits until the API socket accepts a connection, which Firecracker opens as soon as it runs. Throws when
     * {@code timeout} passes first, or when {@code exited} completes (the VMM ended without opening it).
     */
    static void awaitSocket(Path socket, Duration timeout, CompletableFuture<Integer> exited) throws IOException {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (exited.isDone())
                throw new IOException(
                        "firecracker exited with code " + exited.join() + " before it opened its API socket " + socket);
            if (Files.exists(socket)) {
                try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    ch.connect(UnixDomainSocketAddress.of(socket));
                    return;
                } catch (IOException notYetListening) {
                    // the socket file is there a moment before the listener behind it
                }
            }
            if (System.nanoTime() > end) {
                throw new IOException(
                        "firecracker did not open its API socket " + socket + " within " + timeout.toMillis() + " ms");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for " + socket, e);
            }
        }
    }

    /** Asks the guest for a clean shutdown: Ctrl-Alt-Del on the emulated i8042; a Linux guest reboots and Firecracker exits. */
    static void sendCtrlAltDel(Path socket) throws IOException {
        Response response = put(socket, "/actions", "{\"action_type\": \"SendCtrlAltDel\"}", TIMEOUT);
        if (!response.ok()) {
            throw new IOException("Firecracker answered HTTP " + response.status() + " to SendCtrlAltDel on " + socket
                    + ": " + response.faultMessage());
        }
    }

    /** Sends {@code PUT path} with a JSON body and reads the answer, all within {@code timeout}. */
    static Response put(Path socket, String path, String json, Duration timeout) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        String head = "PUT " + path + " HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n";
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            Thread watchdog = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(timeout);
                    ch.close();
                } catch (InterruptedException | IOException ignored) {
                    // answered in time, or already closed
                }
            });
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
                ByteBuffer out = ByteBuffer.allocate(head.length() + body.length)
                        .put(head.getBytes(StandardCharsets.US_ASCII))
                        .put(body)
                        .flip();
                while (out.hasRemaining()) ch.write(out);
                return response(ch, socket);
            } catch (AsynchronousCloseException e) {
                throw new IOException(
                        "no answer from Firecracker's API at " + socket + " within " + timeout.toMillis() + " ms", e);
            } finally {
                watchdog.interrupt();
            }
        }
    }

    /**
     * Reads one answer: the status line and headers, then as many body bytes as Content-Length says. Not to the
     * end of the stream: Firecracker keeps the connection open for more requests.
     */
    private static Response response(SocketChannel ch, Path socket) throws IOException {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        int headEnd;
        while ((headEnd = indexOf(received.toByteArray(), "\r\n\r\n".getBytes(StandardCharsets.US_ASCII))) < 0) {
            if (received.size() > MAX_HEAD)
                throw new IOException("no end of the HTTP head from " + socket + " in " + MAX_HEAD + " bytes");
            if (!readMore(ch, buffer, received))
                throw new IOException("Firecracker's API at " + socket + " closed the connection "
                        + (received.size() == 0
                                ? "without an answer"
                                : "mid-answer: " + received.toString(StandardCharsets.US_ASCII)));
        }
        String[] lines = received.toString(StandardCharsets.US_ASCII)
                .substring(0, headEnd)
                .split("\r\n");
        String[] status = lines[0].split(" ");
        if (status.length < 2 || !status[0].startsWith("HTTP/"))
            throw new IOException("not an HTTP answer from " + socket + ": " + lines[0]);
        int code;
        int length = 0;
        try {
            code = Integer.parseInt(status[1]);
            for (String line : lines) {
                if (line.regionMatches(true, 0, "Content-Length:", 0, 15))
                    length = Integer.parseInt(line.substring(15).trim());
            }
        } catch (NumberFormatException e) {
            throw new IOException(
                    "not an HTTP answer Mayfly can read from " + socket + ": " + String.join(" | ", lines), e);
        }
        if (length < 0 || length > MAX_BODY) throw new IOException("an answer of " + length + " bytes from " + socket);
        int bodyStart = headEnd + 4;
        while (received.size() < bodyStart + length) {
            if (!readMore(ch, buffer, received))
                throw new IOException("Firecracker's API at " + socket + " closed the connection mid-body");
        }
        return new Response(code, new String(received.toByteArray(), bodyStart, length, StandardCharsets.UTF_8));
    }

    private static boolean readMore(SocketChannel ch, ByteBuffer buffer, ByteArrayOutputStream into)
            throws IOException {
        buffer.clear();
        int n = ch.read(buffer);
        if (n < 0) return false;
        into.write(buffer.array(), 0, n);
        return true;
    }

    private static int indexOf(byte[] data, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= data.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) continue outer;
            }
            return i;
        }
        return -1;
    }
}
