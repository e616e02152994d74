package io.mayfly.agent.driver.firecracker;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A minimal client of Firecracker's API: one HTTP/1.1 request over its unix socket, the status code back. The
 * whole exchange is bounded by a timeout (the channel is closed under a read that hangs), because it runs while
 * an instance is being stopped and a wedged VMM must not hold that up.
 */
final class FirecrackerApi {
    static final Duration TIMEOUT = Duration.ofSeconds(2);

    private FirecrackerApi() {}

    /** Asks the guest for a clean shutdown: Ctrl-Alt-Del on the emulated i8042; a Linux guest reboots and Firecracker exits. */
    static void sendCtrlAltDel(Path socket) throws IOException {
        int status = put(socket, "/actions", "{\"action_type\": \"SendCtrlAltDel\"}");
        if (status / 100 != 2) throw new IOException("Firecracker answered HTTP " + status + " to SendCtrlAltDel on " + socket);
    }

    /** Sends {@code PUT path} with a JSON body; returns the response's status code. */
    static int put(Path socket, String path, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        String head = "PUT " + path + " HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n";
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            Thread watchdog = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(TIMEOUT);
                    ch.close();
                } catch (InterruptedException | IOException ignored) {
                    // answered in time, or already closed
                }
            });
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
                ByteBuffer out = ByteBuffer.allocate(head.length() + body.length).put(head.getBytes(StandardCharsets.US_ASCII)).put(body).flip();
                while (out.hasRemaining()) ch.write(out);
                return status(ch, socket);
            } catch (java.nio.channels.AsynchronousCloseException e) {
                throw new IOException("no answer from Firecracker's API at " + socket + " within " + TIMEOUT.toSeconds() + " s", e);
            } finally {
                watchdog.interrupt();
            }
        }
    }

    /** Reads up to the end of the status line ("HTTP/1.1 204 ...") and returns its code. */
    private static int status(SocketChannel ch, Path socket) throws IOException {
        StringBuilder line = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (line.indexOf("\r\n") < 0 && line.length() < 256) {
            one.clear();
            if (ch.read(one) < 0) break;
            line.append((char) one.get(0));
        }
        String[] parts = line.toString().trim().split(" ");
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) throw new IOException("not an HTTP answer from " + socket + ": " + line);
        try {
            return Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new IOException("not an HTTP status from " + socket + ": " + line, e);
        }
    }
}
