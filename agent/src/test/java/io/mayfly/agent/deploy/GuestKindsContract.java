package io.mayfly.agent.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.mayfly.agent.Agent;
import io.mayfly.agent.AgentEvents;
import io.mayfly.agent.Standby;
import io.mayfly.agent.StartRequest;
import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.reconcile.RestartPolicy;
import io.mayfly.agent.router.Router;
import io.mayfly.wire.Progress;
import io.mayfly.wire.StagedTest;
import io.mayfly.wire.manifest.Manifest;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The health gate against small guests of each kind, on one driver (a subclass says which, and how its guest is
 * made): one that never listens and one that exits at once never go live, however often pushed; one that listens
 * late and one that prints its console line late go live once ready; one that passes and dies seconds later is rolled
 * back with no failed request in a load loop through the real router. The guest is testserver.c, its behaviour
 * chosen by its flags in [run] args. A driver whose guests cannot be given every kind of check ({@link #checks()})
 * runs the kinds with the checks it has; a kind no such check can tell apart is skipped for it.
 */
public abstract class GuestKindsContract {
    /** The kinds of {@code [health]} check. */
    protected enum Check {
        TCP,
        HTTP,
        CONSOLE
    }

    /** The drivers of the agent under test. */
    protected abstract List<Driver> drivers(Path dir) throws Exception;

    /** The [run] settings (driver, memory, guest port) of every release. */
    protected abstract Manifest.Run run();

    /** The boot image: testserver itself, unless the driver boots something that runs it (a kernel and its initrd). */
    protected Path artifact() throws Exception {
        return io.mayfly.agent.driver.process.TestServer.binary();
    }

    /** The [run] settings on {@code driver}: 64 MiB, one instance, the guest on port 8080, the rest the manifest's defaults. */
    protected static Manifest.Run runOn(String driver) {
        Manifest.Run d = Manifest.defaults("testserver").run();
        return new Manifest.Run(
                driver,
                List.of(),
                d.memoryBytes(),
                1,
                1,
                8080,
                d.drainTimeout(),
                null,
                "blue-green",
                true,
                null,
                null,
                null);
    }

    protected Path initrd() throws Exception {
        return null;
    }

    /** The guest's arguments that make it serve on the port the agent gives it, before the kind's own flags. */
    protected abstract List<String> serving();

    /** The guest's arguments for a kind that does not serve (never listens, exits at once). */
    protected List<String> quiet() {
        return List.of();
    }

    /** How many pushes a kind that must never go live gets: enough that a one-in-three race cannot pass. */
    protected int pushes() {
        return 20;
    }

    /** How many pushes the guest that never listens gets: each waits out the whole health timeout. */
    protected int neverListensPushes() {
        return Math.max(1, pushes() / 3);
    }

    /** How many times the guest that passes and dies is deployed under load. */
    protected int rollbackRounds() {
        return 3;
    }

    /** How long a guest has to come up (a VM boots for seconds under software emulation). */
    protected Duration bootTime() {
        return Duration.ZERO;
    }

    /** The checks the driver's guests can be given. */
    protected EnumSet<Check> checks() {
        return EnumSet.allOf(Check.class);
    }

    /** Called once every instance of the test has been stopped: a stand-in's leftovers are looked for here. */
    protected void afterInstancesStopped() throws Exception {}

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
        List<Driver> drivers = drivers(dir);
        AgentEvents sink = (app, line) -> events.add(line);
        agent = new Agent(dir.resolve("agent"), router, drivers, sink, RestartPolicy.DEFAULT);
    }

    @AfterEach
    void stop() throws Exception {
        agent.instances().forEach(agent::stop);
        agent.close();
        afterInstancesStopped();
    }

    @Test
    void aGuestThatNeverListensNeverGoesLive() throws Exception {
        // What sits in front of the guest accepts on the instance's port: only the TCP check could be fooled, so it is
        // the one tried often.
        List<Manifest.Health> checks =
                supported(tcp(bootTime().plusMillis(300)), http(bootTime().plusSeconds(1)));
        assumeThat(checks)
                .as("a guest that runs and never listens is told apart only by a TCP or HTTP check")
                .isNotEmpty();
        for (Manifest.Health check : checks) {
            for (int i = 0; i < (check.tcp() ? neverListensPushes() : 1); i++) {
                DeployOutcome outcome = deploy(check, quiet("--exit-code", "0", "--exit-after-ms", "600000"));
                assertThat(outcome)
                        .as("push %d, %s", i, check)
                        .isInstanceOfSatisfying(
                                DeployOutcome.Failed.class,
                                f -> assertThat(f.reason()).contains("not healthy within"));
                assertThat(router.backends("app")).isEmpty();
            }
        }
    }

    @Test
    void aGuestThatExitsAtOnceNeverGoesLive() throws Exception {
        for (Manifest.Health check :
                supported(tcp(bootTime().plusSeconds(1)), http(bootTime().plusSeconds(1)), console("never printed"))) {
            for (int i = 0; i < (check.tcp() ? pushes() : Math.max(1, pushes() / 3)); i++) {
                DeployOutcome outcome = deploy(check, quiet("--exit-code", "1", "--exit-after-ms", "0"));
                assertThat(outcome)
                        .as("push %d, %s", i, check)
                        .isInstanceOfSatisfying(
                                DeployOutcome.Failed.class,
                                f -> assertThat(f.reason())
                                        .contains(
                                                "exited",
                                                "before it was healthy",
                                                "its last lines: ",
                                                "exiting with 1"));
                assertThat(router.backends("app")).isEmpty();
            }
        }
    }

    @Test
    void aGuestThatListensLateGoesLiveWhenReady() throws Exception {
        List<Manifest.Health> checks =
                supported(tcp(bootTime().plusSeconds(10)), http(bootTime().plusSeconds(10)));
        assumeThat(checks).as("listening is seen only by a TCP or HTTP check").isNotEmpty();
        for (Manifest.Health check : checks) {
            DeployOutcome outcome = deploy(check, serving("--delay-ms", "1500", "--name", "late"));
            assertThat(outcome).as(check.toString()).isInstanceOf(DeployOutcome.Live.class);
            assertThat(outcome.phases().get("boot") + outcome.phases().get("health"))
                    .isGreaterThanOrEqualTo(1500);
            assertThat(get().body()).isEqualTo("hello from late\n");
        }
    }

    @Test
    void aGuestThatPrintsItsConsoleLineLateGoesLiveWhenItPrintsIt() throws Exception {
        DeployOutcome outcome =
                deploy(console("ready-to-serve"), serving("--delay-ms", "1200", "--say", "ready-to-serve"));
        assertThat(outcome).isInstanceOf(DeployOutcome.Live.class);
        assertThat(outcome.phases().get("boot") + outcome.phases().get("health"))
                .isGreaterThanOrEqualTo(1200);
        // A line printed by an earlier start does not count either (HealthCheckTest: Mayfly's own lines never do).
        assertThat(deploy(console("ready-to-serve"), serving())).isInstanceOf(DeployOutcome.Failed.class);
    }

    @Test
    void aGuestThatPassesAndDiesIsRolledBackWithNoFailedRequest() throws Exception {
        assertThat(deploy(serves(bootTime().plusSeconds(10)), serving("--name", "v1")))
                .isInstanceOf(DeployOutcome.Live.class);
        for (int round = 0; round < rollbackRounds(); round++) {
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger sent = new AtomicInteger();
            List<String> failures = new CopyOnWriteArrayList<>();
            List<Thread> clients = new ArrayList<>();
            HttpClient client = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .proxy(java.net.ProxySelector.of(routerAddress))
                    .build();
            for (int t = 0; t < 4; t++) {
                clients.add(Thread.ofPlatform().start(() -> {
                    while (running.get() && sent.incrementAndGet() < 200_000) {
                        try {
                            HttpResponse<String> r = client.send(
                                    HttpRequest.newBuilder(URI.create("http://app.localhost/"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() != 200) failures.add(r.statusCode() + " " + r.body());
                        } catch (Exception e) {
                            failures.add(e.toString());
                        }
                    }
                }));
            }
            DeployOutcome outcome = deploy(
                    serves(bootTime().plusSeconds(10)),
                    serving(
                            "--name",
                            "dies",
                            "--die-after-ms",
                            Long.toString(3000 + bootTime().toMillis())));
            assertThat(outcome).isInstanceOf(DeployOutcome.Live.class);
            Standby standby = ((DeployOutcome.Live) outcome).standby();
            CompletableFuture<Long> died =
                    whenPrinted(standby.fresh().getFirst().state().logFile(), "dying after");
            CompletableFuture<Long> back = standby.ending().thenApply(e -> System.nanoTime());
            Standby.Ending ending = standby.ending().get(30 + bootTime().toSeconds(), TimeUnit.SECONDS);
            Thread.sleep(300); // requests keep flowing after the switch back
            running.set(false);
            for (Thread c : clients) c.join();
            assertThat(ending).isInstanceOfSatisfying(Standby.Ending.RolledBack.class, r -> {
                assertThat(r.reason()).contains("exited", "dying after");
                assertThat(r.afterLive())
                        .isPositive()
                        .isLessThan(Duration.ofSeconds(30)); // its 3 s count from listening, before the switch
                assertThat(r.serving()).isEqualTo(1);
            });
            long crashToBack = TimeUnit.NANOSECONDS.toMillis(back.join() - died.get(5, TimeUnit.SECONDS));
            System.out.println(
                    getClass().getSimpleName() + " rollback: traffic back on the previous release " + crashToBack
                            + " ms after the guest printed its last line (the switch itself "
                            + ((Standby.Ending.RolledBack) ending).switchBack().toMillis()
                            + " ms); " + sent.get() + " requests, " + failures.size() + " failed");
            assertThat(failures).as("failed requests out of " + sent.get()).isEmpty();
            assertThat(get().body()).isEqualTo("hello from v1\n");
            assertThat(events)
                    .anySatisfy(e -> assertThat(e).contains("failed", "after going live", "traffic is back on v"));
        }
    }

    @Test
    void withoutALivenessWindowThePreviousReleaseStopsAtOnce() throws Exception {
        Manifest.Health serves = serves(bootTime().plusSeconds(10));
        Manifest.Health none = new Manifest.Health(
                serves.path(),
                200,
                false,
                serves.console(),
                serves.timeout(),
                Duration.ofMillis(20),
                Duration.ofSeconds(1),
                Duration.ZERO);
        assertThat(deploy(none, serving("--name", "v1"))).isInstanceOf(DeployOutcome.Live.class);
        DeployOutcome second = deploy(none, serving("--name", "v2"));
        assertThat(((DeployOutcome.Live) second).standby()).isNull();
        assertThat(agent.instances("app")).hasSize(1);
    }

    /** Completes with System.nanoTime() when {@code text} appears in {@code log}, which is polled every few milliseconds. */
    private static CompletableFuture<Long> whenPrinted(Path log, String text) {
        CompletableFuture<Long> seen = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            try {
                while (System.nanoTime() < end) {
                    if (java.nio.file.Files.exists(log)
                            && java.nio.file.Files.readString(log).contains(text)) {
                        seen.complete(System.nanoTime());
                        return;
                    }
                    Thread.sleep(5);
                }
                seen.completeExceptionally(new AssertionError(log + " never showed " + text));
            } catch (Exception e) {
                seen.completeExceptionally(e);
            }
        });
        return seen;
    }

    private List<String> serving(String... more) {
        List<String> args = new ArrayList<>(serving());
        args.addAll(List.of(more));
        return args;
    }

    private List<String> quiet(String... more) {
        List<String> args = new ArrayList<>(quiet());
        args.addAll(List.of(more));
        return args;
    }

    /** Deploys the next release of the app with {@code args} (placeholders unfilled) and waits for the outcome. */
    protected DeployOutcome deploy(Manifest.Health health, List<String> args) throws Exception {
        StartRequest request = new StartRequest(
                "app", ++release, artifact(), initrd(), args, Map.of(), run(), health, Duration.ofSeconds(5));
        return DeployStrategy.named("blue-green", agent)
                .run(request, 1, Duration.ofSeconds(5), StagedTest.NONE, Progress.NONE);
    }

    /** What every instance of the app has printed so far, all consoles one after another. */
    protected String console() throws Exception {
        StringBuilder all = new StringBuilder();
        for (Path log : agent.consoleLogs("app")) all.append(java.nio.file.Files.readString(log));
        return all.toString();
    }

    protected HttpResponse<String> get() throws Exception {
        return HttpClient.newBuilder()
                .proxy(java.net.ProxySelector.of(routerAddress))
                .build()
                .send(
                        HttpRequest.newBuilder(URI.create("http://app.localhost/"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }

    /** Of {@code checks}, those the driver's guests can be given. */
    private List<Manifest.Health> supported(Manifest.Health... checks) {
        return java.util.Arrays.stream(checks)
                .filter(h -> checks().contains(kind(h)))
                .toList();
    }

    private static Check kind(Manifest.Health h) {
        return h.console() != null ? Check.CONSOLE : h.tcp() ? Check.TCP : Check.HTTP;
    }

    /** The check that proves a serving guest is up: HTTP where the driver's guests can be given one, else its line saying it listens. */
    private Manifest.Health serves(Duration timeout) {
        if (checks().contains(Check.HTTP)) return http(timeout);
        return new Manifest.Health(
                null,
                200,
                false,
                "^listening on ",
                timeout,
                Duration.ofMillis(20),
                Duration.ofMillis(500),
                Duration.ofSeconds(30));
    }

    protected static Manifest.Health tcp(Duration timeout) {
        return new Manifest.Health(
                null, 200, true, null, timeout, Duration.ofMillis(20), Duration.ofMillis(500), Duration.ofSeconds(30));
    }

    protected static Manifest.Health http(Duration timeout) {
        return new Manifest.Health(
                "/", 200, false, null, timeout, Duration.ofMillis(20), Duration.ofMillis(500), Duration.ofSeconds(30));
    }

    private Manifest.Health console(String regex) {
        return new Manifest.Health(
                null,
                200,
                false,
                regex,
                bootTime().plusSeconds(3),
                Duration.ofMillis(20),
                Duration.ofMillis(500),
                Duration.ofSeconds(30));
    }
}
