package io.mayfly.agent.driver;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * Forwards the TCP connections made to one listening address to one destination, byte for byte: how the router
 * and the health checks, which connect to {@code 127.0.0.1:PORT}, reach a guest that sits behind a tap. Each
 * connection is two virtual threads, one a direction; at most {@link #MAX_CONNECTIONS} are open at a time, and
 * further clients wait in the listen backlog until one ends.
 *
 * <p>When one side finishes sending, the other side's sending half is shut down, so a request-then-close client
 * and a respond-then-close server both work; the sockets are closed once both directions are done or either
 * fails. {@link #close()} stops accepting and closes every open connection.
 */
public final class PortForwarder implements AutoCloseable {
    /** More than any one instance should need at once; a bound, so a flood cannot make threads without end. */
    public static final int MAX_CONNECTIONS = 256;
    /** How long a client waits for the guest to accept before it is turned away. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private final ServerSocket server;
    private final InetSocketAddress destination;
    private final Semaphore slots;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private volatile boolean closed;

    private PortForwarder(ServerSocket server, InetSocketAddress destination, int maxConnections) {
        this.server = server;
        this.destination = destination;
        this.slots = new Semaphore(maxConnections);
        this.acceptor =
                Thread.ofVirtual().name("forward-" + server.getLocalPort()).unstarted(this::acceptLoop);
    }

    /** Listens on {@code listen} and forwards every connection to {@code destination}. Throws if it cannot listen. */
    public static PortForwarder start(InetSocketAddress listen, InetSocketAddress destination) throws IOException {
        return start(listen, destination, MAX_CONNECTIONS);
    }

    static PortForwarder start(InetSocketAddress listen, InetSocketAddress destination, int maxConnections)
            throws IOException {
        ServerSocket server = new ServerSocket();
        try {
            // SO_REUSEADDR: an agent that restarts must be able to listen again while its old connections sit in
            // TIME_WAIT.
            server.setReuseAddress(true);
            server.bind(listen, 128);
        } catch (IOException e) {
            server.close();
            throw e;
        }
        PortForwarder forwarder = new PortForwarder(server, destination, maxConnections);
        forwarder.acceptor.start();
        return forwarder;
    }

    /** The address connections are accepted on (useful when it was bound to port 0). */
    public InetSocketAddress listening() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    public InetSocketAddress destination() {
        return destination;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                slots.acquire();
            } catch (InterruptedException e) {
                return;
            }
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                slots.release();
                if (closed) return;
                continue; // e.g. the client reset the connection before it was accepted
            }
            Thread.ofVirtual()
                    .name("forward-" + server.getLocalPort() + "-" + client.getPort())
                    .start(() -> {
                        try {
                            forward(client);
                        } finally {
                            slots.release();
                        }
                    });
        }
    }

    private void forward(Socket client) {
        Socket guest = new Socket();
        open.add(client);
        open.add(guest);
        try {
            if (closed) return;
            client.setTcpNoDelay(true); // relaying small writes: do not let Nagle hold them back a second time
            try {
                guest.connect(destination, (int) CONNECT_TIMEOUT.toMillis());
                guest.setTcpNoDelay(true);
            } catch (IOException e) {
                // A reset rather than a clean close, so that the client sees a failure and not an empty answer.
                client.setSoLinger(true, 0);
                return;
            }
            Thread upstream = Thread.ofVirtual().start(() -> pump(client, guest));
            pump(guest, client);
            upstream.join();
        } catch (IOException | InterruptedException e) {
            // the connection ends; both sockets are closed below
        } finally {
            closeQuietly(client);
            closeQuietly(guest);
            open.remove(client);
            open.remove(guest);
        }
    }

    /** Copies {@code from} to {@code to} until {@code from} has sent everything, then half-closes {@code to}. */
    private static void pump(Socket from, Socket to) {
        // Not try-with-resources: closing a socket's stream closes the socket, and the other direction still uses it.
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            in.transferTo(out);
            out.flush();
            to.shutdownOutput();
        } catch (IOException e) {
            // One side failed: end both directions at once rather than leave the other one hanging.
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    /** Stops listening and closes every open connection; waits briefly for the accept loop to end. */
    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        acceptor.interrupt(); // it may be waiting for a free slot rather than in accept
        open.forEach(PortForwarder::closeQuietly);
        try {
            acceptor.join(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing is all that is left to do
        }
    }

    @Override
    public String toString() {
        return "forwarding " + listening() + " to " + destination;
    }
}
