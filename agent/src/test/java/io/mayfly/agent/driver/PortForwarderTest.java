package io.mayfly.agent.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The forwarder against real local servers: what the router sends reaches the guest and the guest's answer comes back. */
class PortForwarderTest {
    private static final InetSocketAddress ANY_LOOPBACK_PORT =
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void closeEverything() throws Exception {
        for (AutoCloseable c : cleanup.reversed()) c.close();
    }

    /** A stand-in guest on 127.0.0.1: each connection is handed to {@code handler} on its own virtual thread. */
    private InetSocketAddress guest(ConnectionHandler handler) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        cleanup.add(server);
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    cleanup.add(s);
                    Thread.ofVirtual().start(() -> {
                        try (s) {
                            handler.handle(s);
                        } catch (IOException ignored) {
                            // the test decides what a broken connection means
                        }
                    });
                } catch (IOException closed) {
                    return;
                }
            }
        });
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    private interface ConnectionHandler {
        void handle(Socket s) throws IOException;
    }

    /** Reads everything the client sends, then answers it upper-cased and closes: an HTTP/1.0-style exchange. */
    private static void upperCaseEcho(Socket s) throws IOException {
        String request = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        s.getOutputStream().write(request.toUpperCase().getBytes(StandardCharsets.UTF_8));
    }

    private PortForwarder forwarder(InetSocketAddress destination) throws IOException {
        return forwarder(destination, PortForwarder.MAX_CONNECTIONS);
    }

    private PortForwarder forwarder(InetSocketAddress destination, int max) throws IOException {
        PortForwarder forwarder = PortForwarder.start(ANY_LOOPBACK_PORT, destination, max);
        cleanup.add(forwarder);
        return forwarder;
    }

    private Socket connect(PortForwarder forwarder) throws IOException {
        Socket s = new Socket();
        cleanup.add(s);
        s.connect(forwarder.listening(), 2000);
        s.setSoTimeout(5000);
        return s;
    }

    private static String exchange(Socket s, String request) throws IOException {
        s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
        s.shutdownOutput();
        return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    @Test
    void aRequestReachesTheGuestAndItsAnswerComesBackAfterTheClientHalfCloses() throws Exception {
        PortForwarder forwarder = forwarder(guest(PortForwarderTest::upperCaseEcho));

        assertThat(exchange(connect(forwarder), "get / http/1.0\r\n\r\n")).isEqualTo("GET / HTTP/1.0\r\n\r\n");
    }

    @Test
    void aGuestThatAnswersAndClosesFirstEndsTheClientsRead() throws Exception {
        PortForwarder forwarder = forwarder(
                guest(s -> s.getOutputStream().write("hello from the guest".getBytes(StandardCharsets.UTF_8))));

        Socket client = connect(forwarder);

        assertThat(new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .isEqualTo("hello from the guest");
    }

    @Test
    void manyConnectionsAtOnceAreEachForwardedToTheirOwnEnd() throws Exception {
        PortForwarder forwarder = forwarder(guest(PortForwarderTest::upperCaseEcho));
        List<Callable<String>> clients = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String body = "client " + i + " ".repeat(i * 100);
            clients.add(() -> exchange(connect(forwarder), body));
        }

        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<String>> answers = pool.invokeAll(clients);
            for (int i = 0; i < answers.size(); i++) {
                assertThat(answers.get(i).get(10, TimeUnit.SECONDS)).isEqualTo("CLIENT " + i + " ".repeat(i * 100));
            }
        }
    }

    @Test
    void whenNothingListensAtTheGuestTheClientIsResetAtOnce() throws Exception {
        InetSocketAddress nobody;
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            nobody = (InetSocketAddress) taken.getLocalSocketAddress();
        }
        PortForwarder forwarder = forwarder(nobody);
        long began = System.nanoTime();

        // The reset can come so soon that the client's own connect already sees it.
        assertThatThrownBy(() -> connect(forwarder).getInputStream().read())
                .isInstanceOf(SocketException.class)
                .hasMessageContaining("reset");
        assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void beyondTheLimitAClientWaitsUntilAnEarlierConnectionEnds() throws Exception {
        BlockingQueue<Socket> atGuest = new LinkedBlockingQueue<>();
        CountDownLatch release = new CountDownLatch(1);
        PortForwarder forwarder = forwarder(
                guest(s -> {
                    atGuest.add(s);
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }),
                1);

        Socket first = connect(forwarder);
        assertThat(atGuest.poll(5, TimeUnit.SECONDS))
                .as("the first connection reaches the guest")
                .isNotNull();
        connect(forwarder); // accepted by the kernel's backlog, not yet forwarded
        assertThat(atGuest.poll(300, TimeUnit.MILLISECONDS))
                .as("a second connection beyond the limit of 1")
                .isNull();

        first.close();
        release.countDown();

        assertThat(atGuest.poll(5, TimeUnit.SECONDS))
                .as("the second connection, once the first has ended")
                .isNotNull();
    }

    @Test
    void closeStopsListeningAndEndsTheOpenConnections() throws Exception {
        CountDownLatch reached = new CountDownLatch(1);
        PortForwarder forwarder = forwarder(guest(s -> {
            reached.countDown();
            s.getInputStream().readAllBytes(); // holds the connection open until the other side goes
        }));
        Socket client = connect(forwarder);
        assertThat(reached.await(5, TimeUnit.SECONDS)).isTrue();
        InetSocketAddress listening = forwarder.listening();

        forwarder.close();

        InputStream in = client.getInputStream();
        assertThat(readEnd(in)).as("the open connection has ended").isTrue();
        assertThatThrownBy(() -> new Socket().connect(listening, 1000)).isInstanceOf(ConnectException.class);
    }

    /** Whether the stream ends (EOF or reset) rather than blocking until the socket timeout. */
    private static boolean readEnd(InputStream in) {
        try {
            return in.read() == -1;
        } catch (SocketException reset) {
            return true;
        } catch (IOException timeout) {
            return false;
        }
    }
}
