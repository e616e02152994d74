package io.mayfly.agent.router;

import static io.mayfly.agent.router.RouterClients.get;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RouterBalancingTest {
    private final CountDownLatch slowStarted = new CountDownLatch(1);
    private final CountDownLatch finishSlow = new CountDownLatch(1);
    private NamedBackend first;
    private NamedBackend second;
    private Router router;
    private InetSocketAddress address;
    private HttpClient client;

    @BeforeEach
    void start() throws Exception {
        first = slowOnRequest(NamedBackend.start("first"));
        second = slowOnRequest(NamedBackend.start("second"));
        router = new Router("localhost", 2);
        router.switchTo("app", List.of(first.backend(), second.backend()));
        address = router.start(new InetSocketAddress("127.0.0.1", 0));
        client = RouterClients.through(address);
    }

    private NamedBackend slowOnRequest(NamedBackend backend) {
        return backend.on("/slow", exchange -> {
            slowStarted.countDown();
            try {
                finishSlow.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            NamedBackend.reply(exchange, 200, "slow " + backend.name);
        });
    }

    @AfterEach
    void stop() {
        finishSlow.countDown();
        router.close();
        first.close();
        second.close();
    }

    @Test
    void requestsOneAtATimeAlternateBetweenBackends() throws Exception {
        for (int i = 0; i < 200; i++) {
            assertThat(get(client, address, "app", "/").statusCode()).isEqualTo(200);
        }
        assertThat(first.requests()).isBetween(80, 120);
        assertThat(second.requests()).isBetween(80, 120);
    }

    @Test
    void busyBackendIsPassedOverForTheOneWithFewerRequests() throws Exception {
        CompletableFuture<HttpResponse<String>> slow = client.sendAsync(
                RouterClients.request(address, "app", "/slow").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(slowStarted.await(30, TimeUnit.SECONDS)).isTrue();
        NamedBackend busy = first.requests() == 1 ? first : second;
        NamedBackend idle = busy == first ? second : first;

        for (int i = 0; i < 10; i++) {
            assertThat(get(client, address, "app", "/").body()).isEqualTo(idle.name);
        }
        assertThat(busy.requests()).isEqualTo(1);

        finishSlow.countDown();
        assertThat(slow.get(30, TimeUnit.SECONDS).body()).isEqualTo("slow " + busy.name);
    }
}
