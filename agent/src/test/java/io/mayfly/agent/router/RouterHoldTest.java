package io.mayfly.agent.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Scale to zero in the router: requests for an app with no backend are held while it boots, within bounds. */
class RouterHoldTest {

    @Test
    void heldRequestsAreServedOnceTheWakerRoutesABackendAndTheWakerIsAskedOnce() throws Exception {
        try (Router router = new Router("localhost");
                NamedBackend backend = NamedBackend.start("woken")) {
            InetSocketAddress address = router.start(new InetSocketAddress("127.0.0.1", 0));
            AtomicInteger wakes = new AtomicInteger();
            router.holdWhileBooting(
                    "sleepy",
                    app -> {
                        wakes.incrementAndGet();
                        return CompletableFuture.runAsync(() -> {
                            sleep(300);
                            router.switchTo(app, List.of(backend.backend()));
                        });
                    },
                    Duration.ofSeconds(10));
            router.switchTo("sleepy", List.of());

            HttpClient client = RouterClients.through(address);
            List<CompletableFuture<HttpResponse<String>>> held = new CopyOnWriteArrayList<>();
            for (int i = 0; i < 5; i++) {
                HttpRequest.Builder b = RouterClients.request(address, "sleepy", "/")
                        .POST(HttpRequest.BodyPublishers.ofString("body " + i));
                held.add(client.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> r : held) {
                assertThat(r.get().statusCode()).isEqualTo(200);
                assertThat(r.get().body()).isEqualTo("woken");
            }
            assertThat(backend.requests()).isEqualTo(5);
            assertThat(wakes.get()).isBetween(1, 5);
        }
    }

    @Test
    void aRequestHeldPastTheHoldTimeoutGetsA503() throws Exception {
        try (Router router = new Router("localhost")) {
            InetSocketAddress address = router.start(new InetSocketAddress("127.0.0.1", 0));
            router.holdWhileBooting("stuck", app -> new CompletableFuture<>(), Duration.ofMillis(300));
            router.switchTo("stuck", List.of());
            HttpResponse<String> r = RouterClients.get(RouterClients.through(address), address, "stuck", "/");
            assertThat(r.statusCode()).isEqualTo(503);
        }
    }

    @Test
    void aWakerThatFailsAnswers503AndWithoutAWakerThereIsNoHold() throws Exception {
        try (Router router = new Router("localhost")) {
            InetSocketAddress address = router.start(new InetSocketAddress("127.0.0.1", 0));
            router.holdWhileBooting(
                    "broken",
                    app -> CompletableFuture.failedFuture(new IllegalStateException("no image")),
                    Duration.ofSeconds(10));
            router.switchTo("broken", List.of());
            HttpClient client = RouterClients.through(address);
            assertThat(RouterClients.get(client, address, "broken", "/").statusCode())
                    .isEqualTo(503);
            router.holdWhileBooting("broken", null, null);
            assertThat(RouterClients.get(client, address, "broken", "/").statusCode())
                    .isEqualTo(503);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
