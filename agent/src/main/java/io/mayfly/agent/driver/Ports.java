package io.mayfly.agent.driver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Picks loopback ports for instances to listen on. */
public final class Ports {
    private Ports() {}

    /**
     * A port on 127.0.0.1 that was free a moment ago: the kernel picks it, we release it, and the instance
     * binds it next. Another process could take it in between; the health check then fails and says so.
     */
    public static int freeLoopbackPort() {
        try (ServerSocket socket = new ServerSocket()) {
            // No SO_REUSEADDR: a port still in TIME_WAIT from a previous instance is not handed out again.
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port on 127.0.0.1: " + e.getMessage(), e);
        }
    }
}
