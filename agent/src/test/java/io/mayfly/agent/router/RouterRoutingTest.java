package io.mayfly.agent.router;

import static io.mayfly.agent.router.RouterClients.get;
import static io.mayfly.agent.router.RouterClients.raw;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RouterRoutingTest {
    private NamedBackend hello;
    private NamedBackend other;
    private Router router;
    private InetSocketAddress address;

    @BeforeEach
    void start() throws Exception {
        hello = NamedBackend.start("hello");
        other = NamedBackend.start("other");
        router = new Router("localhost", 2);
        router.switchTo("hello", List.of(hello.backend()));
        router.switchTo("other", List.of(other.backend()));
        address = router.start(new InetSocketAddress("127.0.0.1", 0));
    }

    @AfterEach
    void stop() {
        router.close();
        hello.close();
        other.close();
    }

    @Test
    void hostPicksTheAppWhateverThePortAndCase() throws Exception {
        assertThat(raw(address, "GET / HTTP/1.1", "Host: hello.localhost:8080").body())
                .isEqualTo("hello");
        assertThat(raw(address, "GET / HTTP/1.1", "Host: HeLLo.LocalHost").body())
                .isEqualTo("hello");
        assertThat(raw(address, "GET / HTTP/1.1", "Host: other.localhost:" + address.getPort())
                        .body())
                .isEqualTo("other");
        assertThat(raw(address, "GET / HTTP/1.0", "Host: OTHER.localhost.").body())
                .isEqualTo("other");
        assertThat(hello.requests()).isEqualTo(2);
        assertThat(other.requests()).isEqualTo(2);
    }

    @Test
    void unknownAppGetsA404PageNamingTheApp() throws Exception {
        RouterClients.RawResponse response = raw(address, "GET / HTTP/1.1", "Host: nope.localhost:8080");

        assertThat(response.status()).isEqualTo(404);
        assertThat(response.headers().get("content-type")).startsWith("text/html");
        assertThat(response.body()).contains("no app named nope on this Mayfly; apps are served at APP.localhost");
    }

    @Test
    void hostOutsideTheDomainGetsA404Page() throws Exception {
        RouterClients.RawResponse response = raw(address, "GET / HTTP/1.1", "Host: hello.example.com");

        assertThat(response.status()).isEqualTo(404);
        assertThat(response.body()).contains("no app for host hello.example.com", "APP.localhost");
        assertThat(hello.requests()).isZero();
    }

    @Test
    void appWithoutBackendsGets503AndRemovedAppGets404() throws Exception {
        router.switchTo("hello", List.of());
        RouterClients.RawResponse empty = raw(address, "GET / HTTP/1.1", "Host: hello.localhost");
        assertThat(empty.status()).isEqualTo(503);
        assertThat(empty.headers().get("content-type")).startsWith("text/html");
        assertThat(empty.body()).contains("app hello has no healthy instance");

        router.remove("hello");
        assertThat(raw(address, "GET / HTTP/1.1", "Host: hello.localhost").status())
                .isEqualTo(404);
        assertThat(router.apps()).containsExactly("other");
    }

    @Test
    void twoHostHeadersGet400AndTheConnectionIsClosed() throws Exception {
        try (Socket socket = new Socket(address.getAddress(), address.getPort())) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream()
                    .write("GET / HTTP/1.1\r\nHost: hello.localhost\r\nHost: other.localhost\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
            RouterClients.RawResponse response = RouterClients.readOne(socket.getInputStream());

            assertThat(response.status()).isEqualTo(400);
            assertThat(response.headers()).containsEntry("connection", "close");
            assertThat(response.body()).contains("the request has more than one Host header; send exactly one");
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(hello.requests() + other.requests()).isZero();
    }

    @Test
    void requestWithoutHostGets400() throws Exception {
        RouterClients.RawResponse response = raw(address, "GET / HTTP/1.1");

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.body()).contains("the request has no Host header; apps are served at APP.localhost");
    }

    @Test
    void localAnswersKeepTheClientConnectionUsable() throws Exception {
        HttpClient client = RouterClients.through(address);
        assertThat(get(client, address, "nope", "/").statusCode()).isEqualTo(404);
        assertThat(get(client, address, "hello", "/").body()).isEqualTo("hello");
        assertThat(get(client, address, "nope", "/").statusCode()).isEqualTo(404);
        assertThat(get(client, address, "other", "/").body()).isEqualTo("other");
    }

    @Test
    void backendSeesForwardedHeadersAndTheOriginalHost() throws Exception {
        RouterClients.raw(
                address, "GET /path?q=1 HTTP/1.1", "Host: hello.localhost:8080", "X-Forwarded-For: 203.0.113.7");

        assertThat(hello.lastHeaders())
                .containsEntry("host", "hello.localhost:8080")
                .containsEntry("x-forwarded-for", "203.0.113.7, 127.0.0.1")
                .containsEntry("x-forwarded-proto", "http")
                .containsEntry("x-forwarded-host", "hello.localhost:8080")
                .doesNotContainKey("connection");
    }

    @Test
    void keptAliveConnectionsAreReusedForManyRequests() throws Exception {
        HttpClient client = RouterClients.through(address);
        for (int i = 0; i < 50; i++) {
            HttpResponse<String> response = get(client, address, "hello", "/n" + i);
            assertThat(response.statusCode()).isEqualTo(200);
        }
        assertThat(hello.requests()).isEqualTo(50);
        assertThat(hello.connections()).isLessThanOrEqualTo(2);
    }

    @Test
    void backendThatRefusesConnectionsGets502() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        router.switchTo("gone", List.of(new Backend("gone-1", "127.0.0.1", closedPort)));
        HttpClient client = RouterClients.through(address);

        HttpResponse<String> response = get(client, address, "gone", "/");

        assertThat(response.statusCode()).isEqualTo(502);
        assertThat(response.body()).contains("app gone: instance gone-1 at 127.0.0.1:" + closedPort);
        assertThat(get(client, address, "hello", "/").body()).isEqualTo("hello");
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (Socket socket = new Socket(address.getAddress(), address.getPort())) {
            socket.setSoTimeout(30_000);
            String requests = "GET / HTTP/1.1\r\nHost: hello.localhost\r\n\r\n"
                    + "GET / HTTP/1.1\r\nHost: nope.localhost\r\n\r\n"
                    + "GET / HTTP/1.1\r\nHost: other.localhost\r\nConnection: close\r\n\r\n";
            socket.getOutputStream().write(requests.getBytes(StandardCharsets.US_ASCII));
            String responses = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

            assertThat(responses.indexOf("\r\n\r\nhello")).isPositive().isLessThan(responses.indexOf("404 Not Found"));
            assertThat(responses.indexOf("404 Not Found")).isLessThan(responses.indexOf("\r\n\r\nother"));
            assertThat(responses).endsWith("other");
        }
    }

    @Test
    void portInUseIsReportedWithTheAddress() {
        try (Router second = new Router("localhost", 1)) {
            assertThatThrownBy(() -> second.start(address))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("router cannot listen on 127.0.0.1:" + address.getPort())
                    .hasMessageContaining("is another process using that port?");
        }
    }
}
