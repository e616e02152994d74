package io.mayfly.agent.driver.firecracker;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Stand-in for the API socket of a running Firecracker (the stand-in firecracker script cannot serve a unix
 * socket). Records each request as it arrived on the wire and answers as Firecracker does ({@code 204 No
 * Content}), or not at all when it plays a wedged VMM. When it plays a guest that obeys Ctrl-Alt-Del, it makes the
 * stand-in firecracker exit as the real one does after the guest resets: by creating {@code ctrl-alt-del} in the
 * instance directory, which the script watches.
 */
final class StandInFirecrackerApi implements AutoCloseable {
    enum Guest { OBEYS, IGNORES, WEDGED }

    private final ServerSocketChannel server;
    private final List<String> requests = new CopyOnWriteArrayList<>();

    StandInFirecrackerApi(Path socket, Path instanceDir, Guest guest) throws IOException {
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread.ofVirtual().start(() -> {
            try {
                while (true) {
                    SocketChannel client = server.accept();
                    String request = read(client);
                    requests.add(request);
                    if (guest == Guest.WEDGED) continue; // never answers, never closes
                    client.write(ByteBuffer.wrap("HTTP/1.1 204 \r\nServer: Firecracker API\r\nConnection: keep-alive\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII)));
                    if (guest == Guest.OBEYS && request.contains("SendCtrlAltDel")) Files.writeString(instanceDir.resolve("ctrl-alt-del"), "");
                }
            } catch (IOException closed) {
                // the test is over
            }
        });
    }

    /** The head and body of one request, by its Content-Length. */
    private static String read(SocketChannel client) throws IOException {
        StringBuilder text = new StringBuilder();
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        int bodyStart;
        while ((bodyStart = text.indexOf("\r\n\r\n")) < 0 || text.length() < bodyStart + 4 + contentLength(text)) {
            buffer.clear();
            if (client.read(buffer) < 0) break;
            text.append(new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8));
        }
        return text.toString();
    }

    private static int contentLength(StringBuilder text) {
        for (String line : text.toString().split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) return Integer.parseInt(line.substring(15).trim());
        }
        return 0;
    }

    List<String> requests() { return requests; }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
