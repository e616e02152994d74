package io.mayfly.agent.router;

import static io.mayfly.agent.router.RouterClients.get;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RouterSwitchTest {
    private static final int THREADS = 4;
    private static final int REQUESTS_PER_THREAD = 300;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final ExecutorService clients = Executors.newFixedThreadPool(THREADS);
    private Router router;

    @AfterEach
    void stop() throws Exception {
        clients.shutdownNow();
        for (AutoCloseable closeable : toClose.reversed()) {
            closeable.close();
        }
    }

    private InetSocketAddress startRouter(String app, Backend backend) throws InterruptedException {
        Router router = new Router("localhost", 2);
        toClose.add(router);
        router.switchTo(app, List.of(backend));
        this.router = router;
        return router.start(new InetSocketAddress("127.0.0.1", 0));
    }

    @Test
    void switchUnderLoadFailsNoRequestAndTheOldBackendDrainsItsSlowRequest() throws Exception {
        CountDownLatch slowStarted = new CountDownLatch(1);
        CountDownLatch finishSlow = new CountDownLatch(1);
        NamedBackend blue = NamedBackend.start("blue").on("/slow", exchange -> {
            slowStarted.countDown();
            try {
                finishSlow.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            NamedBackend.reply(exchange, 200, "slow blue");
        });
        NamedBackend green = NamedBackend.start("green");
        toClose.add(green);
        toClose.add(blue);
        InetSocketAddress address = startRouter("app", blue.backend());
        HttpClient client = RouterClients.through(address);
        CompletableFuture<HttpResponse<String>> slow = client.sendAsync(
                RouterClients.request(address, "app", "/slow").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(slowStarted.await(30, TimeUnit.SECONDS)).isTrue();

        // Each client thread pauses before its last 100 requests until blue is stopped, so traffic
        // runs through the switch and on after the old instance is gone.
        CountDownLatch blueStopped = new CountDownLatch(1);
        AtomicInteger completed = new AtomicInteger();
        Queue<String> failures = new ConcurrentLinkedQueue<>();
        List<Future<?>> loops = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            loops.add(clients.submit(() -> {
                for (int i = 0; i < REQUESTS_PER_THREAD; i++) {
                    if (i == REQUESTS_PER_THREAD - 100) {
                        blueStopped.await(60, TimeUnit.SECONDS);
                    }
                    try {
                        HttpResponse<String> response = get(client, address, "app", "/");
                        if (response.statusCode() != 200) {
                            failures.add(response.statusCode() + " " + response.body());
                        }
                    } catch (IOException e) {
                        failures.add(e.toString());
                    }
                    completed.incrementAndGet();
                }
                return null;
            }));
        }
        awaitAtLeast(completed, 300);

        List<Backend> old = router.switchTo("app", List.of(green.backend()));
        CompletableFuture<Boolean> drained = old.getFirst().drained(Duration.ofSeconds(30));
        assertThat(old).extracting(Backend::instanceId).containsExactly("blue");
        assertThat(drained).isNotDone();

        finishSlow.countDown();
        assertThat(slow.get(30, TimeUnit.SECONDS).body()).isEqualTo("slow blue");
        assertThat(drained.get(30, TimeUnit.SECONDS)).isTrue();
        assertThat(old.getFirst().inFlight()).isZero();
        int servedByBlue = blue.requests();
        blue.close();
        blueStopped.countDown();

        for (Future<?> loop : loops) {
            loop.get(120, TimeUnit.SECONDS);
        }
        assertThat(failures).isEmpty();
        assertThat(completed.get()).isEqualTo(THREADS * REQUESTS_PER_THREAD);
        assertThat(blue.requests()).isEqualTo(servedByBlue);
        assertThat(green.requests()).isGreaterThanOrEqualTo(THREADS * 100);
    }

    @Test
    void idleConnectionsToTheOldBackendAreNotUsedAfterTheSwitch() throws Exception {
        NamedBackend blue = NamedBackend.start("blue");
        NamedBackend green = NamedBackend.start("green");
        toClose.add(green);
        toClose.add(blue);
        InetSocketAddress address = startRouter("app", blue.backend());
        HttpClient client = RouterClients.through(address);
        for (int i = 0; i < 20; i++) {
            assertThat(get(client, address, "app", "/").body()).isEqualTo("blue");
        }

        router.switchTo("app", List.of(green.backend()));

        for (int i = 0; i < 20; i++) {
            assertThat(get(client, address, "app", "/").body()).isEqualTo("green");
        }
        assertThat(blue.requests()).isEqualTo(20);
    }

    @Test
    void backendClosingEachKeptAliveConnectionAfterItsResponseCausesNoFailure() throws Exception {
        ClosingBackend backend = new ClosingBackend();
        toClose.add(backend);
        InetSocketAddress address = startRouter("app", new Backend("closing", "127.0.0.1", backend.port()));
        HttpClient client = RouterClients.through(address);
        Queue<String> failures = new ConcurrentLinkedQueue<>();
        List<Future<?>> loops = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            loops.add(clients.submit(() -> {
                for (int i = 0; i < REQUESTS_PER_THREAD; i++) {
                    try {
                        HttpResponse<String> response = get(client, address, "app", "/");
                        if (response.statusCode() != 200 || !response.body().equals("ok")) {
                            failures.add(response.statusCode() + " " + response.body());
                        }
                    } catch (IOException e) {
                        failures.add(e.toString());
                    }
                }
                return null;
            }));
        }
        for (Future<?> loop : loops) {
            loop.get(120, TimeUnit.SECONDS);
        }

        assertThat(failures).isEmpty();
        assertThat(backend.served.get()).isGreaterThanOrEqualTo(THREADS * REQUESTS_PER_THREAD);
        // the keep-alive race really happened, and was absorbed by sending again
        assertThat(router.retriedRequests()).isPositive();
    }

    private static void awaitAtLeast(AtomicInteger counter, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (counter.get() < count && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(counter.get()).isGreaterThanOrEqualTo(count);
    }

    /**
     * A backend that answers as if keeping the connection alive, then closes it a moment later
     * without reading on: the request the router sent meanwhile meets a closed connection.
     */
    static final class ClosingBackend implements AutoCloseable {
        final AtomicInteger served = new AtomicInteger();
        private final ServerSocket socket = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
        private final Thread acceptor = Thread.ofPlatform().daemon().start(this::accept);

        ClosingBackend() throws IOException {}

        int port() {
            return socket.getLocalPort();
        }

        private void accept() {
            while (!socket.isClosed()) {
                try {
                    Socket connection = socket.accept();
                    Thread.ofVirtual().start(() -> serve(connection));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket connection) {
            try (connection) {
                InputStream in = connection.getInputStream();
                int matched = 0;
                while (matched < 4) {
                    int b = in.read();
                    if (b < 0) {
                        return;
                    }
                    matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
                }
                OutputStream out = connection.getOutputStream();
                out.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                served.incrementAndGet();
                Thread.sleep(2);
            } catch (IOException | InterruptedException e) {
                // the router hung up first: nothing to clean up beyond the socket
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void aRequestWhoseInstanceRefusesWaitsForTheRouteToChangeInsteadOfFailing() throws Exception {
        // An instance that just exited: nothing listens on its port. Its app's traffic moves to another instance a
        // moment later (a rollback in the liveness window); requests sent meanwhile reach that one, none fails.
        int dead;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            dead = s.getLocalPort();
        }
        NamedBackend standby = NamedBackend.start("standby");
        toClose.add(standby);
        InetSocketAddress address = startRouter("app", new Backend("dead", "127.0.0.1", dead));
        HttpClient client = RouterClients.through(address);
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            sent.add(CompletableFuture.supplyAsync(
                    () -> {
                        try {
                            return get(client, address, "app", "/");
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    },
                    clients));
        }
        Thread.sleep(100);
        router.switchTo("app", List.of(standby.backend()));
        for (CompletableFuture<HttpResponse<String>> f : sent) {
            HttpResponse<String> r = f.get(10, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("standby");
        }
    }

    @Test
    void aRequestWhoseInstanceStaysGoneGetsA502OnceTheRerouteBudgetIsSpent() throws Exception {
        int dead;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            dead = s.getLocalPort();
        }
        InetSocketAddress address = startRouter("app", new Backend("dead", "127.0.0.1", dead));
        long began = System.nanoTime();
        HttpResponse<String> r = get(RouterClients.through(address), address, "app", "/");
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(Duration.ofNanos(System.nanoTime() - began))
                .isGreaterThanOrEqualTo(Duration.ofNanos(Exchange.REROUTE_BUDGET_NANOS));
    }
}
