package io.mayfly.agent.driver;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The guest behind an instance, as its health check reaches it: the guest itself, never what Mayfly put in front of
 * it. A port forwarder, QEMU's user-mode network and pasta all accept a connection on the instance's port whether or
 * not the guest listens there, or even runs; a TCP check against them proves nothing. Each driver says how its guest
 * is reached ({@link InstanceHandle#guest()}).
 */
public interface Guest {
    /** Where an HTTP check connects: the instance's port on the host. Whatever forwards it, only the guest answers HTTP. */
    InetSocketAddress http();

    /** One TCP check within {@code timeout}: null when the guest itself accepted a connection on its port, else what was seen. */
    String acceptsTcp(Duration timeout) throws InterruptedException;

    /**
     * Why no HTTP or TCP check can reach this guest at all, or empty when one can. Such a check fails at once with
     * this rather than being retried until its timeout: only a console check can tell whether the guest serves.
     */
    default Optional<String> unreachable() {
        return Optional.empty();
    }

    /** A guest Mayfly reaches on no port (a Xen domain on its bridge): HTTP and TCP checks fail at once saying {@code why}. */
    static Guest consoleOnly(String why) {
        return new Guest() {
            public InetSocketAddress http() {
                throw new IllegalStateException(why);
            }

            public String acceptsTcp(Duration timeout) {
                return why;
            }

            public Optional<String> unreachable() {
                return Optional.of(why);
            }
        };
    }

    /** A guest that listens on the host's loopback itself, with nothing in front: a connect is its own accept. */
    static Guest onLoopback(int port) {
        InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        return new Guest() {
            public InetSocketAddress http() {
                return address;
            }

            public String acceptsTcp(Duration timeout) {
                return connect(address, timeout);
            }
        };
    }

    /** A guest with an address of its own (on a tap), reached on the host's {@code port} for HTTP and directly for TCP. */
    static Guest at(InetSocketAddress guest, int port) {
        InetSocketAddress forwarded = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        return new Guest() {
            public InetSocketAddress http() {
                return forwarded;
            }

            public String acceptsTcp(Duration timeout) {
                return connect(guest, timeout);
            }
        };
    }

    /**
     * A process in a network namespace of its own, its port forwarded from the host's (pasta): the guest accepted when
     * the forward connects and a socket of the namespace whose first process is {@code namespacePid} listens on the port.
     */
    static Guest inNamespace(int port, long namespacePid) {
        InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        return new Guest() {
            public InetSocketAddress http() {
                return address;
            }

            public String acceptsTcp(Duration timeout) {
                String forward = connect(address, timeout);
                if (forward != null) return forward;
                return listening(namespacePid, port)
                        ? null
                        : "TCP connect to 127.0.0.1:" + port + ": nothing listens on port " + port
                                + " inside the instance";
            }
        };
    }

    /** Connects and closes: null on success, else why not, for a person. */
    static String connect(InetSocketAddress to, Duration timeout) {
        String target = "TCP connect to " + to.getAddress().getHostAddress() + ":" + to.getPort();
        try (Socket s = new Socket()) {
            s.connect(to, (int) Math.max(1, timeout.toMillis()));
            return null;
        } catch (ConnectException e) {
            return target + ": connection refused";
        } catch (SocketTimeoutException e) {
            return target + ": no answer within " + timeout.toMillis() + " ms";
        } catch (IOException e) {
            return target + ": " + e.getMessage();
        }
    }

    /** Whether a TCP socket of the network namespace of {@code pid} is in LISTEN state on {@code port} (IPv4 or IPv6). */
    static boolean listening(long pid, int port) {
        String hexPort = String.format(Locale.ROOT, ":%04X", port);
        for (String table : List.of("tcp", "tcp6")) {
            Path file = Path.of("/proc", Long.toString(pid), "net", table);
            try {
                for (String line : Files.readAllLines(file)) {
                    String[] f = line.trim().split("\\s+");
                    // sl local_address rem_address st ...; state 0A is LISTEN
                    if (f.length > 3 && f[1].endsWith(hexPort) && f[3].equals("0A")) return true;
                }
            } catch (IOException e) {
                // the namespace's first process is gone, or no IPv6: nothing listens there
            }
        }
        return false;
    }
}
