package io.mayfly.agent.deploy;

import io.mayfly.agent.Agent;
import io.mayfly.agent.AgentEvents;
import io.mayfly.agent.Standby;
import io.mayfly.agent.StartRequest;
import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.process.ProcessDriver;
import io.mayfly.agent.driver.process.TestServer;
import io.mayfly.agent.router.Router;
import io.mayfly.agent.supervisor.RestartPolicy;
import io.mayfly.wire.manifest.Manifest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The health gate of the process driver with small guests of each kind (testserver's flags): one that never listens
 * and one that exits at once never go live, however often pushed; one that listens late and one that prints its
 * console line late go live once ready; one that passes and dies seconds later is rolled back with no failed request
 * in a load loop through the real router. The same kinds run on the other drivers in their own tests.
 */
class HealthGateTest {
    private static final int PUSHES = 20;

    @TempDir
    Path dir;
    private Router router;
    private InetSocketAddress routerAddress;
    private Agent agent;
    private final List<String> events = new CopyOnWriteArrayList<>();
    private int release;

    @BeforeEach
    void start() throws Exception {
        router = new Router("localhost", 2);
        routerAddress = router.start(new InetSocketAddress("127.0.0.1", 0));
        List<Driver> drivers = List.of(new ProcessDriver(dir.resolve("sandbox")));
        AgentEvents sink = (app, line) -> events.add(line);
        agent = new Agent(dir.resolve("agent"), router, drivers, sink, RestartPolicy.DEFAULT);
    }

    @AfterEach
    void stop() {
        agent.instances().forEach(agent::stop);
        agent.close();
    }

    @Test
    void aGuestThatNeverListensNeverGoesLive() throws Exception {
        // pasta accepts on the instance's port for it: only the TCP check could be fooled, so it is the one tried often.
        for (Manifest.Health check : List.of(tcp(Duration.ofMillis(300)), http())) {
            for (int i = 0; i < (check.tcp() ? PUSHES : 3); i++) {
                DeployOutcome outcome = deploy(check, "--exit-code", "0", "--exit-after-ms", "600000");
                assertThat(outcome).as("push %d, %s", i, check).isInstanceOfSatisfying(DeployOutcome.Failed.class,
                        f -> assertThat(f.reason()).contains("not healthy within"));
                assertThat(router.backends("app")).isEmpty();
            }
        }
    }

    @Test
    void aGuestThatExitsAtOnceNeverGoesLive() throws Exception {
        for (Manifest.Health check : List.of(tcp(), http(), console("never printed"))) {
            for (int i = 0; i < PUSHES; i++) {
                DeployOutcome outcome = deploy(check, "--exit-code", "1", "--exit-after-ms", "0");
                assertThat(outcome).as("push %d, %s", i, check).isInstanceOfSatisfying(DeployOutcome.Failed.class,
                        f -> assertThat(f.reason()).contains("exited with code 1", "before it was healthy", "its last lines: ", "exiting with 1"));
                assertThat(router.backends("app")).isEmpty();
            }
        }
    }

    @Test
    void aGuestThatListensLateGoesLiveWhenReady() throws Exception {
        for (Manifest.Health check : List.of(tcp(Duration.ofSeconds(10)), http(Duration.ofSeconds(10)))) {
            DeployOutcome outcome = deploy(check, "--port", "{port}", "--delay-ms", "1500", "--name", "late");
            assertThat(outcome).as(check.toString()).isInstanceOf(DeployOutcome.Live.class);
            assertThat(outcome.phases().get("health")).isGreaterThanOrEqualTo(1500);
            assertThat(get().body()).isEqualTo("hello from late\n");
        }
    }

    @Test
    void aGuestThatPrintsItsConsoleLineLateGoesLiveWhenItPrintsIt() throws Exception {
        DeployOutcome outcome = deploy(console("ready to serve"), "--port", "{port}", "--delay-ms", "1200", "--say", "ready to serve");
        assertThat(outcome).isInstanceOf(DeployOutcome.Live.class);
        assertThat(outcome.phases().get("health")).isGreaterThanOrEqualTo(1200);
        // A line printed by an earlier start does not count either (HealthCheckTest: Mayfly's own lines never do).
        assertThat(deploy(console("ready to serve"), "--port", "{port}")).isInstanceOf(DeployOutcome.Failed.class);
    }

    @Test
    void aGuestThatPassesAndDiesIsRolledBackWithNoFailedRequest() throws Exception {
        assertThat(deploy(http(), "--port", "{port}", "--name", "v1")).isInstanceOf(DeployOutcome.Live.class);
        for (int round = 0; round < 3; round++) {
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger sent = new AtomicInteger();
            List<String> failures = new CopyOnWriteArrayList<>();
            List<Thread> clients = new ArrayList<>();
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).proxy(java.net.ProxySelector.of(routerAddress)).build();
            for (int t = 0; t < 4; t++) {
                clients.add(Thread.ofPlatform().start(() -> {
                    while (running.get() && sent.incrementAndGet() < 200_000) {
                        try {
                            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://app.localhost/")).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() != 200) failures.add(r.statusCode() + " " + r.body());
                        } catch (Exception e) {
                            failures.add(e.toString());
                        }
                    }
                }));
            }
            DeployOutcome outcome = deploy(http(), "--port", "{port}", "--name", "dies", "--die-after-ms", "3000");
            assertThat(outcome).isInstanceOf(DeployOutcome.Live.class);
            Standby standby = ((DeployOutcome.Live) outcome).standby();
            Standby.Ending ending = standby.ending().get(30, TimeUnit.SECONDS);
            Thread.sleep(300); // requests keep flowing after the switch back
            running.set(false);
            for (Thread c : clients) c.join();
            assertThat(ending).isInstanceOfSatisfying(Standby.Ending.RolledBack.class, r -> {
                assertThat(r.reason()).contains("exited with code 1", "dying after");
                assertThat(r.afterLive()).isPositive().isLessThan(Duration.ofSeconds(30)); // its 3 s count from listening, before the switch
                assertThat(r.serving()).isEqualTo(1);
                System.out.println("rollback: traffic back on the previous release " + r.switchBack().toMillis() + " ms after the crash was seen");
            });
            assertThat(failures).as("failed requests out of " + sent.get()).isEmpty();
            assertThat(get().body()).isEqualTo("hello from v1\n");
            assertThat(events).anySatisfy(e -> assertThat(e).contains("failed", "after going live", "traffic is back on v"));
        }
    }

    @Test
    void withoutALivenessWindowThePreviousReleaseStopsAtOnce() throws Exception {
        Manifest.Health none = new Manifest.Health("/", 200, false, null, Duration.ofSeconds(10), Duration.ofMillis(20),
                Duration.ofSeconds(1), Duration.ZERO);
        assertThat(deploy(none, "--port", "{port}", "--name", "v1")).isInstanceOf(DeployOutcome.Live.class);
        DeployOutcome second = deploy(none, "--port", "{port}", "--name", "v2");
        assertThat(((DeployOutcome.Live) second).standby()).isNull();
        assertThat(agent.instances("app")).hasSize(1);
    }

    private DeployOutcome deploy(Manifest.Health health, String... args) throws InterruptedException {
        Manifest m = Manifest.defaults("server");
        StartRequest request = new StartRequest("app", ++release, TestServer.binaryUnchecked(), null, List.of(args), Map.of(), m.run(),
                health, Duration.ofSeconds(5));
        return DeployStrategy.named("blue-green", agent).run(request, 1, Duration.ofSeconds(5), StagedTest.NONE, Progress.NONE);
    }

    private HttpResponse<String> get() throws Exception {
        return HttpClient.newBuilder().proxy(java.net.ProxySelector.of(routerAddress)).build()
                .send(HttpRequest.newBuilder(URI.create("http://app.localhost/")).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Manifest.Health tcp() {
        return tcp(Duration.ofSeconds(1));
    }

    private static Manifest.Health tcp(Duration timeout) {
        return new Manifest.Health(null, 200, true, null, timeout, Duration.ofMillis(20), Duration.ofMillis(500), Duration.ofSeconds(30));
    }

    private static Manifest.Health http() {
        return http(Duration.ofSeconds(1));
    }

    private static Manifest.Health http(Duration timeout) {
        return new Manifest.Health("/", 200, false, null, timeout, Duration.ofMillis(20), Duration.ofMillis(500), Duration.ofSeconds(30));
    }

    private static Manifest.Health console(String regex) {
        return new Manifest.Health(null, 200, false, regex, Duration.ofSeconds(3), Duration.ofMillis(20), Duration.ofMillis(500), Duration.ofSeconds(30));
    }
}
