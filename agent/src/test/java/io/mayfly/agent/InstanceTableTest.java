package io.mayfly.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.agent.driver.Guest;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.router.Backend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which exits are crashes: an instance's exit counts as one only while it is in the table and not being stopped. */
class InstanceTableTest {
    @TempDir
    Path dir;

    /** A handle whose stop asks the table, at that moment, whether the exit it causes would be a crash. */
    private static final class Handle implements InstanceHandle {
        final CompletableFuture<Integer> exited = new CompletableFuture<>();
        final InstanceState state;
        InstanceTable table;
        Instance self;
        final AtomicBoolean onPurposeWhileStopping = new AtomicBoolean();

        Handle(InstanceState state) {
            this.state = state;
        }

        public InstanceState state() {
            return state;
        }

        public boolean isAlive() {
            return !exited.isDone();
        }

        public Guest guest() {
            return Guest.onLoopback(state.port());
        }

        public CompletableFuture<Integer> exited() {
            return exited;
        }

        public void stop(Duration grace) {
            onPurposeWhileStopping.set(table.stoppedOnPurpose(self));
            exited.complete(0);
        }
    }

    private Instance instance(InstanceTable table, String id) throws Exception {
        Path stateDir = Files.createDirectories(dir.resolve(id));
        Files.writeString(stateDir.resolve("state.json"), "{}");
        Handle handle = new Handle(new InstanceState(
                id, "hello", 1, "stand-in", 0, 0, 1, stateDir.resolve("console.log"), stateDir, Instant.now()));
        Instance instance =
                new Instance(id, "hello", 1, "stand-in", handle, new Backend(id, "127.0.0.1", 1), null, 0, 0, 0);
        handle.table = table;
        handle.self = instance;
        table.add(instance);
        return instance;
    }

    @Test
    void anInstanceThatExitsWhileInTheTableAndNotBeingStoppedCrashed() throws Exception {
        InstanceTable table = new InstanceTable(new InstanceDirs(dir));
        Instance running = instance(table, "hello-v1-aaaaaa");
        assertThat(table.stoppedOnPurpose(running)).isFalse();
    }

    @Test
    void anInstanceStoppedOnPurposeIsNoCrashWhileItStopsNorAfterwardsAndLosesItsStateFile() throws Exception {
        InstanceTable table = new InstanceTable(new InstanceDirs(dir));
        Instance instance = instance(table, "hello-v1-aaaaaa");

        table.stop(instance);

        assertThat(((Handle) instance.handle()).onPurposeWhileStopping)
                .as("while its handle stops it")
                .isTrue();
        assertThat(table.stoppedOnPurpose(instance))
                .as("after stop returned, however late its exit is seen")
                .isTrue();
        assertThat(table.all()).isEmpty();
        assertThat(dir.resolve("hello-v1-aaaaaa").resolve("state.json"))
                .as("not re-adopted by a restarted agent")
                .doesNotExist();
    }

    @Test
    void theInstancesBehindARouteAreTheRunningOnesTheTableKnows() throws Exception {
        InstanceTable table = new InstanceTable(new InstanceDirs(dir));
        Instance a = instance(table, "hello-v1-aaaaaa");
        Instance exited = instance(table, "hello-v1-bbbbbb");
        ((Handle) exited.handle()).exited.complete(1);
        Backend unknown = new Backend("hello-v1-cccccc", "127.0.0.1", 1);

        assertThat(table.behind(List.of(exited.backend(), unknown, a.backend())))
                .containsExactly(a);
    }
}
