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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Stand-in for the API socket of a running Firecracker (the stand-in firecracker script cannot serve a unix
 * socket); a test binds it once the script has started. Records each request in the order it arrived and answers
 * as Firecracker's swagger says: {@code 204} with no body, or, for the one request the test wants refused, the
 * status and {@code {"fault_message": ...}} body it chose.
 *
 * <p>It also plays the VMM behind the socket, through files in the instance directory that the stand-in
 * firecracker script watches: {@code InstanceStart} creates {@code instance-start} (the script then prints that
 * the guest booted), and a {@code SendCtrlAltDel} that the guest obeys creates {@code ctrl-alt-del} (the script then
 * exits 0, as Firecracker does after the guest resets). A wedged VMM never answers SendCtrlAltDel.
 */
final class StandInFirecrackerApi implements AutoCloseable {
    /** How the guest takes Ctrl-Alt-Del. */
    enum Guest {
        OBEYS,
        IGNORES,
        WEDGED
    }

    /** One request as it arrived: headers by lower-cased name. */
    record Request(String method, String path, Map<String, String> headers, String body) {
        @Override
        public String toString() {
            return method + " " + path + " " + body;
        }
    }

    /** An answer other than 204 for {@code PUT path}. */
    record Refusal(String path, int status, String body) {}

    private final ServerSocketChannel server;
    private final List<Request> requests = new CopyOnWriteArrayList<>();

    StandInFirecrackerApi(Path socket, Path instanceDir, Guest guest) throws IOException {
        this(socket, instanceDir, guest, null);
    }

    StandInFirecrackerApi(Path socket, Path instanceDir, Guest guest, Refusal refusal) throws IOException {
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread.ofVirtual().start(() -> {
            try {
                while (true) {
                    SocketChannel client = server.accept();
                    String raw = read(client);
                    if (raw.isEmpty()) continue; // the driver checking that the socket accepts
                    Request request = parse(raw);
                    requests.add(request);
                    boolean ctrlAltDel = request.body().contains("SendCtrlAltDel");
                    if (ctrlAltDel && guest == Guest.WEDGED) continue; // never answers, never closes
                    if (refusal != null && refusal.path().equals(request.path())) {
                        byte[] body = refusal.body().getBytes(StandardCharsets.UTF_8);
                        client.write(ByteBuffer.wrap(("HTTP/1.1 " + refusal.status()
                                        + " \r\nServer: Firecracker API\r\nConnection: keep-alive\r\n"
                                        + "Content-Type: application/json\r\nContent-Length: " + body.length
                                        + "\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII)));
                        client.write(ByteBuffer.wrap(body));
                        continue;
                    }
                    client.write(
                            ByteBuffer.wrap("HTTP/1.1 204 \r\nServer: Firecracker API\r\nConnection: keep-alive\r\n\r\n"
                                    .getBytes(StandardCharsets.US_ASCII)));
                    if (request.body().contains("InstanceStart"))
                        Files.writeString(instanceDir.resolve("instance-start"), "");
                    if (ctrlAltDel && guest == Guest.OBEYS) Files.writeString(instanceDir.resolve("ctrl-alt-del"), "");
                }
            } catch (IOException closed) {
                // the test is over
            }
        });
    }

    /** The head and body of one request, by its Content-Length; empty when the client sent nothing. */
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
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:"))
                return Integer.parseInt(line.substring(15).trim());
        }
        return 0;
    }

    private static Request parse(String raw) {
        int bodyStart = raw.indexOf("\r\n\r\n");
        String[] head = raw.substring(0, bodyStart).split("\r\n");
        String[] requestLine = head[0].split(" ");
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < head.length; i++) {
            int colon = head[i].indexOf(':');
            headers.put(
                    head[i].substring(0, colon).toLowerCase(Locale.ROOT),
                    head[i].substring(colon + 1).trim());
        }
        return new Request(requestLine[0], requestLine[1], headers, raw.substring(bodyStart + 4));
    }

    List<Request> requests() {
        return requests;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
