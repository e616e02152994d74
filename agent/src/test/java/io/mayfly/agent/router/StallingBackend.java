package io.mayfly.agent.router;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend that hangs, on a plain ServerSocket on a free loopback port: it reads each request head, sends
 * {@code answer} (maybe nothing, maybe half a response) and then never sends anything again; or it reads nothing
 * at all. Counts the connections the router opened, the ones it closed again, and the requests that came on a
 * connection already used.
 */
final class StallingBackend implements AutoCloseable {
    final String name;
    private final byte[] answer;
    private final boolean reads;
    private final ServerSocket server;
    private final Queue<Socket> sockets = new ConcurrentLinkedQueue<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger closedByRouter = new AtomicInteger();
    private final AtomicInteger reused = new AtomicInteger();

    private StallingBackend(String name, String answer, boolean reads) throws IOException {
        this.name = name;
        this.answer = answer.getBytes(StandardCharsets.ISO_8859_1);
        this.reads = reads;
        server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("stalling-backend-" + name).start(this::accept);
    }

    /** Reads requests and never answers them. */
    static StallingBackend silent(String name) throws IOException {
        return new StallingBackend(name, "", true);
    }

    /** Accepts connections and never reads from them: what the router sends piles up until it cannot send more. */
    static StallingBackend deaf(String name) throws IOException {
        return new StallingBackend(name, "", false);
    }

    /** Answers each request with these bytes (the start of a response) and then stalls. */
    static StallingBackend stallingAfter(String name, String start) throws IOException {
        return new StallingBackend(name, start, true);
    }

    Backend backend() {
        return new Backend(name + "-1", "127.0.0.1", server.getLocalPort());
    }

    int connections() {
        return connections.get();
    }

    /** Connections on which the router gave up: closed from its side. */
    int closedByRouter() {
        return closedByRouter.get();
    }

    /** Requests that arrived on a connection that had carried one before. */
    int reused() {
        return reused.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                sockets.add(socket);
                connections.incrementAndGet();
                if (reads) {
                    Thread.ofVirtual().start(() -> serve(socket));
                }
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            InputStream in = socket.getInputStream();
            boolean first = true;
            while (readHead(in)) {
                if (!first) {
                    reused.incrementAndGet();
                }
                first = false;
                socket.getOutputStream().write(answer);
                socket.getOutputStream().flush();
            }
            closedByRouter.incrementAndGet();
        } catch (IOException e) {
            closedByRouter.incrementAndGet();
        }
    }

    /** Reads up to the blank line after a head; false at the end of the stream. */
    private static boolean readHead(InputStream in) throws IOException {
        int matched = 0;
        int b;
        while ((b = in.read()) >= 0) {
            matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
            if (matched == 4) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }
}
