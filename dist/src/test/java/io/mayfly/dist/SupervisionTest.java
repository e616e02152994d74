package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Crash restarts: a killed instance comes back and serves; crashes in a row back off. */
class SupervisionTest {
    @TempDir
    Path tmp;

    @Test
    void aKilledInstanceIsRestartedAndServesAgainAndACrashLoopBacksOff() throws Exception {
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data")).start()) {
            mayfly.cli("apps:create", "phoenix");
            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("phoenix"));
            MayflyProcess.setVersion(repo, "phoenix-1");
            assertThat(mayfly.push(repo, "phoenix", "v1").exit()).isZero();

            for (int crash = 1; crash <= 3; crash++) {
                Views.InstanceView before = serving(mayfly);
                killApp(before.pid());
                Views.InstanceView after = awaitRestart(mayfly, before.id(), Duration.ofSeconds(30));
                assertThat(after.restarts()).isEqualTo(crash);
                mayfly.awaitServing("phoenix", "phoenix-1", Duration.ofSeconds(10));
            }
            String logs = mayfly.cli("logs", "-a", "phoenix", "-n", "200").out();
            assertThat(logs)
                    .contains("restart #1 now", "restart #2 in 1 s", "restart #3 in 2 s", "restarted as phoenix-v1-");
            assertThat(mayfly.cli("ps", "-a", "phoenix").out())
                    .contains("serving")
                    .containsPattern("serving .* 3\\s*$");
        }
    }

    private static Views.InstanceView serving(MayflyProcess mayfly) throws Exception {
        List<Views.InstanceView> all = List.of(Json.read(
                mayfly.api("GET", "/api/v1/apps/phoenix/instances", null).body(), Views.InstanceView[].class));
        return all.stream()
                .filter(i -> i.state().startsWith("serving"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("nothing serving: " + all));
    }

    /** SIGKILL of the unikernel process itself, the innermost process of its sandbox. */
    private static void killApp(long sandboxPid) {
        ProcessHandle monitor = ProcessHandle.of(sandboxPid).orElseThrow();
        ProcessHandle app = monitor.descendants()
                .max(Comparator.comparingLong(ProcessHandle::pid))
                .orElse(monitor);
        assertThat(app.destroyForcibly()).isTrue();
    }

    private static Views.InstanceView awaitRestart(MayflyProcess mayfly, String killed, Duration bound)
            throws Exception {
        long deadline = System.nanoTime() + bound.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                Views.InstanceView now = serving(mayfly);
                if (!now.id().equals(killed)) return now;
            } catch (AssertionError notYet) {
                // between the crash and the restart nothing serves
            }
            Thread.sleep(50);
        }
        throw new AssertionError(killed + " was not replaced within " + bound);
    }
}
