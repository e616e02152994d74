package io.mayfly.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.Guest;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceSpec;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.reconcile.RestartPolicy;
import io.mayfly.agent.router.Router;
import io.mayfly.wire.manifest.Manifest;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stopping an instance on purpose is never taken for a crash, however late its handle sees the end. */
class AgentStopTest {
    /** Whose handles see their guest's end only after stop returned, as a polled Xen domain or adopted process may. */
    static final class LateDriver implements Driver {
        final AtomicInteger starts = new AtomicInteger();

        public String name() {
            return "late";
        }

        public Availability availability() {
            return Availability.yes("a stand-in");
        }

        public InstanceHandle start(InstanceSpec spec) {
            starts.incrementAndGet();
            CompletableFuture<Integer> exited = new CompletableFuture<>();
            InstanceState state = new InstanceState(
                    spec.id(),
                    spec.app(),
                    spec.release(),
                    name(),
                    0,
                    0,
                    spec.port(),
                    spec.logFile(),
                    spec.stateDir(),
                    Instant.now());
            return new InstanceHandle() {
                public InstanceState state() {
                    return state;
                }

                public boolean isAlive() {
                    return !exited.isDone();
                }

                public Guest guest() {
                    return Guest.onLoopback(spec.port());
                }

                public CompletableFuture<Integer> exited() {
                    return exited;
                }

                public void stop(Duration grace) {
                    Thread.ofVirtual().start(() -> {
                        try {
                            Thread.sleep(100);
                        } catch (InterruptedException ignored) {
                            // ends now
                        }
                        exited.complete(-1);
                    });
                }
            };
        }

        public Optional<InstanceHandle> recover(InstanceState state) {
            return Optional.empty();
        }
    }

    @TempDir
    Path dir;

    private Agent agent;

    @AfterEach
    void close() {
        if (agent != null) agent.close();
    }

    @Test
    void aRoutedInstanceStoppedOnPurposeIsNotRestartedWhenItsEndIsSeenAfterStopReturned() throws Exception {
        LateDriver driver = new LateDriver();
        List<String> events = new CopyOnWriteArrayList<>();
        Router router = new Router("localhost", 1);
        router.start(new InetSocketAddress("127.0.0.1", 0));
        agent = new Agent(
                dir,
                router,
                List.of(driver),
                (app, line) -> events.add(line),
                new RestartPolicy(Duration.ZERO, Duration.ZERO, Duration.ofMinutes(10)));
        Manifest m = Manifest.defaults("server");
        Manifest.Run run = new Manifest.Run(
                "late",
                List.of(),
                m.run().memoryBytes(),
                1,
                1,
                8080,
                m.run().drainTimeout(),
                null,
                "blue-green",
                true,
                null,
                null,
                null);
        Instance instance = agent.start(new StartRequest(
                "app", 1, dir.resolve("server"), null, List.of(), Map.of(), run, m.health(), Duration.ofSeconds(1)));
        agent.switchTo("app", List.of(instance));

        agent.stop(instance);
        instance.handle().exited().get();
        Thread.sleep(500);

        assertThat(driver.starts).as("started once, never restarted").hasValue(1);
        assertThat(events).noneMatch(e -> e.contains("restart"));
        assertThat(agent.instances()).isEmpty();
    }
}
