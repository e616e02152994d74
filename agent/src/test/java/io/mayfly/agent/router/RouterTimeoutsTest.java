package io.mayfly.agent.router;

import static io.mayfly.agent.router.RouterClients.readOne;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A hung instance or a slow client holds a connection only as long as the router's timeouts allow. */
class RouterTimeoutsTest {
    /** The timeout a test waits for. */
    private static final Duration SHORT = Duration.ofMillis(300);
    /** A timeout no test waits for: if it applied where SHORT should, the test would fail on its socket's read timeout. */
    private static final Duration LONG = Duration.ofHours(1);

    private static final RouteLimits PATIENT = new RouteLimits(LONG, LONG, LONG);

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private Router router;
    private InetSocketAddress address;

    @AfterEach
    void stop() throws Exception {
        threads.shutdownNow();
        for (AutoCloseable closeable : toClose.reversed()) {
            closeable.close();
        }
    }

    @Test
    void hungInstanceGets504AndTheAppLogHearsOfItAndItsConnectionIsNotReused() throws Exception {
        StallingBackend hung = closeLater(StallingBackend.silent("hung"));
        startRouter(LONG, PATIENT);
        router.switchTo("hung", List.of(hung.backend()));
        router.limits("hung", new RouteLimits(null, SHORT, null));

        try (Socket client = connect()) {
            send(client, "GET /orders?token=secret HTTP/1.1\r\nHost: hung.localhost\r\n\r\n");
            RouterClients.RawResponse first = readOne(client.getInputStream());
            assertThat(first.status()).isEqualTo(504);
            assertThat(first.headers().get("content-type")).startsWith("text/html");
            assertThat(first.body())
                    .contains("app hung: instance hung-1 at 127.0.0.1:"
                            + hung.backend().port()
                            + " did not answer within 300 ms; see the app's logs (mayfly logs hung)");

            // The client's connection stays usable; the instance's is never used again.
            send(client, "GET /again HTTP/1.1\r\nHost: hung.localhost\r\n\r\n");
            assertThat(readOne(client.getInputStream()).status()).isEqualTo(504);
        }
        eventually(
                hung::closedByRouter,
                closed -> closed == 2,
                "the router closing both connections to the hung instance");
        assertThat(hung.connections()).isEqualTo(2);
        assertThat(hung.reused()).isZero();
        assertThat(router.backends("hung").getFirst().inFlight()).isZero();
        eventually(() -> List.copyOf(events), lines -> lines.size() == 2, "both timeouts in the app's log");
        assertThat(events)
                .containsExactly(
                        "hung: instance hung-1 did not answer GET /orders within 300 ms: the client got 504 Gateway Timeout",
                        "hung: instance hung-1 did not answer GET /again within 300 ms: the client got 504 Gateway Timeout");
    }

    @Test
    void instanceThatStallsMidBodyHasTheClientConnectionClosed() throws Exception {
        StallingBackend trickle = closeLater(StallingBackend.stallingAfter(
                "trickle", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nthe first bytes"));
        startRouter(LONG, new RouteLimits(LONG, SHORT, LONG));
        router.switchTo("trickle", List.of(trickle.backend()));

        try (Socket client = connect()) {
            send(client, "GET / HTTP/1.1\r\nHost: trickle.localhost\r\n\r\n");
            RouterClients.RawResponse partial = readOne(client.getInputStream());

            assertThat(partial.status()).isEqualTo(200);
            assertThat(partial.body()).isEqualTo("the first bytes");
            assertThat(client.getInputStream().read()).isEqualTo(-1);
        }
        eventually(
                trickle::closedByRouter,
                closed -> closed == 1,
                "the router closing its connection to the stalled instance");
        eventually(() -> List.copyOf(events), lines -> !lines.isEmpty(), "the stall in the app's log");
        assertThat(events)
                .containsExactly(
                        "trickle: instance trickle-1 stalled for 300 ms in the middle of its response to GET /: "
                                + "the client's connection was closed");
    }

    @Test
    void instanceThatLeavesTheRequestBodyUnreadGets504() throws Exception {
        StallingBackend deaf = closeLater(StallingBackend.deaf("deaf"));
        startRouter(LONG, new RouteLimits(LONG, SHORT, LONG));
        router.switchTo("deaf", List.of(deaf.backend()));
        byte[] body = new byte[64 * 1024 * 1024]; // more than the socket buffers on the way can hold

        try (Socket client = connect()) {
            threads.submit(() -> {
                send(
                        client,
                        "PUT /file HTTP/1.1\r\nHost: deaf.localhost\r\nContent-Length: " + body.length + "\r\n\r\n");
                client.getOutputStream().write(body);
                return null;
            });
            RouterClients.RawResponse response = readOne(client.getInputStream());

            assertThat(response.status()).isEqualTo(504);
            assertThat(response.headers()).containsEntry("connection", "close");
        }
        eventually(() -> List.copyOf(events), lines -> !lines.isEmpty(), "the timeout in the app's log");
        assertThat(events)
                .containsExactly(
                        "deaf: instance deaf-1 did not answer PUT /file within 300 ms: the client got 504 Gateway Timeout");
    }

    @Test
    void aFloodOfTimeoutsTakesAFewLinesOfTheAppLogThatCountThemAll() throws Exception {
        StallingBackend hung = closeLater(StallingBackend.silent("hung"));
        startRouter(LONG, new RouteLimits(LONG, SHORT, LONG));
        router.switchTo("hung", List.of(hung.backend()));
        int clients = 20;

        List<Future<Integer>> statuses = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            statuses.add(threads.submit(() -> RouterClients.raw(address, "GET / HTTP/1.1", "Host: hung.localhost")
                    .status()));
        }
        for (Future<Integer> status : statuses) {
            assertThat(status.get()).isEqualTo(504);
        }

        eventually(
                () -> timeoutsCounted(events),
                counted -> counted == clients,
                "all " + clients + " timeouts counted in the app's log");
        assertThat(events.size()).isLessThan(clients);
    }

    @Test
    void aClientThatReadsNothingOfItsResponseIsCutOffAndSoIsTheInstance() throws Exception {
        AtomicBoolean cutOff = new AtomicBoolean();
        NamedBackend big = closeLater(NamedBackend.start("big").on("/huge", exchange -> {
            byte[] chunk = new byte[64 * 1024];
            exchange.sendResponseHeaders(200, 1024L * chunk.length);
            try (OutputStream out = exchange.getResponseBody()) {
                for (int i = 0; i < 1024; i++) {
                    out.write(chunk);
                }
            } catch (IOException e) {
                cutOff.set(true);
            }
        }));
        startRouter(LONG, new RouteLimits(LONG, SHORT, LONG));
        router.switchTo("big", List.of(big.backend()));

        try (Socket client = connect()) {
            send(client, "GET /huge HTTP/1.1\r\nHost: big.localhost\r\n\r\n");
            eventually(cutOff::get, Boolean::booleanValue, "the router giving up on a client that reads nothing");
        }
    }

    @Test
    void slowLorisHeadGets408AndIsClosed() throws Exception {
        NamedBackend hello = closeLater(NamedBackend.start("hello"));
        startRouter(SHORT, PATIENT);
        router.switchTo("hello", List.of(hello.backend()));

        try (Socket client = connect()) {
            // A byte every 50 ms: never a pause as long as the timeout, but the head is never done within it.
            trickle(client, "GET / HTTP/1.1\r\nHost: hello.localhost\r\nX-Slow: " + "a".repeat(1000));
            RouterClients.RawResponse response = readOne(client.getInputStream());

            assertThat(response.status()).isEqualTo(408);
            assertThat(response.headers()).containsEntry("connection", "close");
            assertThat(response.body()).contains("the request's head did not arrive within 300 ms");
            assertThat(client.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(hello.requests()).isZero();
    }

    @Test
    void aConnectionThatSendsNothingIsClosedWithoutAWord() throws Exception {
        startRouter(SHORT, PATIENT);

        try (Socket client = connect()) {
            assertThat(client.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void fiftySlowLorisClientsAreAllClosedWhileOthersAreServed() throws Exception {
        NamedBackend hello = closeLater(NamedBackend.start("hello"));
        startRouter(SHORT, PATIENT);
        router.switchTo("hello", List.of(hello.backend()));

        List<Future<String>> endings = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            endings.add(threads.submit(() -> {
                try (Socket client = connect()) {
                    trickle(client, "GET /" + "x".repeat(1000));
                    int status = readOne(client.getInputStream()).status();
                    return status + (client.getInputStream().read() == -1 ? " closed" : " open");
                }
            }));
        }
        assertThat(RouterClients.raw(address, "GET / HTTP/1.1", "Host: hello.localhost")
                        .body())
                .isEqualTo("hello");
        for (Future<String> ending : endings) {
            assertThat(ending.get()).isEqualTo("408 closed");
        }
    }

    @Test
    void aKeptAliveConnectionThatBeginsANextHeadMustFinishItInTime() throws Exception {
        NamedBackend hello = closeLater(NamedBackend.start("hello"));
        startRouter(SHORT, PATIENT);
        router.switchTo("hello", List.of(hello.backend()));

        try (Socket client = connect()) {
            send(client, "GET / HTTP/1.1\r\nHost: hello.localhost\r\n\r\n");
            assertThat(readOne(client.getInputStream()).body()).isEqualTo("hello");
            send(client, "GET /next HTTP/1.1\r\nHo");

            assertThat(readOne(client.getInputStream()).status()).isEqualTo(408);
            assertThat(client.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(hello.requests()).isEqualTo(1);
    }

    @Test
    void idleKeptAliveConnectionIsClosedWithoutAWord() throws Exception {
        NamedBackend hello = closeLater(NamedBackend.start("hello"));
        startRouter(LONG, new RouteLimits(LONG, LONG, SHORT));
        router.switchTo("hello", List.of(hello.backend()));

        try (Socket client = connect()) {
            send(client, "GET / HTTP/1.1\r\nHost: hello.localhost\r\n\r\n");
            RouterClients.RawResponse response = readOne(client.getInputStream());
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.headers()).doesNotContainKey("connection");

            assertThat(client.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void stalledRequestBodyGets408AndTheInstanceIsLetGo() throws Exception {
        NamedBackend upload = closeLater(NamedBackend.start("upload"));
        startRouter(LONG, PATIENT);
        router.switchTo("upload", List.of(upload.backend()));
        router.limits("upload", new RouteLimits(SHORT, null, null));

        try (Socket client = connect()) {
            send(client, "POST /upload HTTP/1.1\r\nHost: upload.localhost\r\nContent-Length: 100\r\n\r\n0123456789");
            RouterClients.RawResponse response = readOne(client.getInputStream());

            assertThat(response.status()).isEqualTo(408);
            assertThat(response.body()).contains("the request's body stopped coming for 300 ms");
            assertThat(client.getInputStream().read()).isEqualTo(-1);
        }
        eventually(
                () -> router.backends("upload").getFirst().inFlight(),
                n -> n == 0,
                "the upload no longer counted on the instance");
    }

    @Test
    void anAppsOwnResponseTimeoutBeatsTheDefaultEitherWay() throws Exception {
        NamedBackend slow = closeLater(NamedBackend.start("slow").on("/", exchange -> {
            sleep(Duration.ofSeconds(1)); // longer than SHORT: the app's own limit decides whether that is too slow
            NamedBackend.reply(exchange, 200, "late but fine");
        }));
        startRouter(LONG, new RouteLimits(LONG, SHORT, LONG));
        router.switchTo("impatient", List.of(slow.backend()));
        router.switchTo("patient", List.of(slow.backend()));
        router.limits("patient", new RouteLimits(null, LONG, null));

        assertThat(RouterClients.raw(address, "GET / HTTP/1.1", "Host: impatient.localhost")
                        .status())
                .isEqualTo(504);
        RouterClients.RawResponse patient = RouterClients.raw(address, "GET / HTTP/1.1", "Host: patient.localhost");
        assertThat(patient.status()).isEqualTo(200);
        assertThat(patient.body()).isEqualTo("late but fine");

        assertThat(router.limits("patient")).isEqualTo(new RouteLimits(LONG, LONG, LONG));
        assertThat(router.limits("impatient")).isEqualTo(new RouteLimits(LONG, SHORT, LONG));
        router.limits("patient", null);
        assertThat(router.limits("patient")).isEqualTo(router.limits("impatient"));
    }

    private void startRouter(Duration header, RouteLimits defaults) throws InterruptedException {
        router = closeLater(new Router("localhost", 2, null, header, defaults));
        router.reportEventsTo((app, line) -> events.add(app + ": " + line));
        address = router.start(new InetSocketAddress("127.0.0.1", 0));
    }

    private <T extends AutoCloseable> T closeLater(T closeable) {
        toClose.add(closeable);
        return closeable;
    }

    private Socket connect() throws IOException {
        Socket socket = new Socket(address.getAddress(), address.getPort());
        socket.setSoTimeout((int) RouterClients.TIMEOUT.toMillis());
        return socket;
    }

    private static void send(Socket socket, String text) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /** Writes text a byte every 50 ms, on its own thread, until done or the router closed the connection. */
    private void trickle(Socket socket, String text) {
        threads.submit(() -> {
            try {
                OutputStream out = socket.getOutputStream();
                for (byte b : text.getBytes(StandardCharsets.ISO_8859_1)) {
                    out.write(b);
                    out.flush();
                    Thread.sleep(50);
                }
            } catch (IOException | InterruptedException e) {
                // closed: what the test waits for
            }
            return null;
        });
    }

    /** How many timeouts the app log's lines account for: one each, plus those they say were held back. */
    private static int timeoutsCounted(List<String> lines) {
        Pattern more = Pattern.compile("\\(and (\\d+) more since the last report\\)");
        int counted = 0;
        for (String line : lines) {
            Matcher matcher = more.matcher(line);
            counted += 1 + (matcher.find() ? Integer.parseInt(matcher.group(1)) : 0);
        }
        return counted;
    }

    private static <T> T eventually(Callable<T> reading, Predicate<T> done, String what) throws Exception {
        long deadline = System.nanoTime() + RouterClients.TIMEOUT.toNanos();
        while (true) {
            T last = reading.call();
            if (done.test(last)) {
                return last;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        what + " did not happen within " + RouterClients.TIMEOUT + "; last seen: " + last);
            }
            Thread.sleep(20);
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
