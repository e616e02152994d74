package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** run.instances = 0: the instance stops when idle, and the next request is held while one boots, then served. */
class ScaleToZeroTest {
    @TempDir
    Path tmp;

    @Test
    void anIdleAppStopsAndTheNextRequestBootsItAndIsServed() throws Exception {
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data")).start()) {
            mayfly.cli("apps:create", "sleepy");
            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("sleepy"));
            MayflyProcess.setVersion(repo, "sleepy-1");
            Files.writeString(
                    repo.resolve("mayfly.toml"),
                    Files.readString(repo.resolve("mayfly.toml"))
                            .replace("instances = 1", "instances = 0\nidle_stop = \"1s\""));
            MayflyProcess.Result push = mayfly.push(repo, "sleepy", "v1");
            assertThat(push.exit()).as(push.out()).isZero();

            for (int round = 0; round < 2; round++) {
                awaitNoInstance(mayfly, Duration.ofSeconds(20));
                HttpResponse<String> first = mayfly.visit("sleepy", "/");
                assertThat(first.statusCode()).isEqualTo(200);
                assertThat(first.body()).contains("sleepy-1");
                // As its agent reports it: within a heartbeat (the embedded agent is a process of its own).
                Eventually.until(
                        Duration.ofSeconds(5),
                        () -> instances(mayfly),
                        l -> l.size() == 1,
                        "the booted instance reported");
            }
            String logs = mayfly.cli("logs", "-a", "sleepy", "-n", "100").out();
            assertThat(logs).contains("(scale to zero)", "booting an instance", "booted v1 on demand");
        }
    }

    private static List<Views.InstanceView> instances(MayflyProcess mayfly) throws Exception {
        return List.of(Json.read(
                mayfly.api("GET", "/api/v1/apps/sleepy/instances", null).body(), Views.InstanceView[].class));
    }

    private static void awaitNoInstance(MayflyProcess mayfly, Duration bound) throws Exception {
        long deadline = System.nanoTime() + bound.toNanos();
        while (System.nanoTime() < deadline) {
            if (instances(mayfly).isEmpty()) return;
            Thread.sleep(100);
        }
        throw new AssertionError("the idle instance was not stopped within " + bound + ": " + instances(mayfly));
    }
}
