package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ps:scale, then rolling deploys of 3 instances under load: one that succeeds, one whose health check fails. */
class ScalingAndStrategiesTest {
    @TempDir
    Path tmp;

    @Test
    void rollingDeploysOfThreeInstancesDropNoRequestAndAFailingOneLeavesTheRestServing() throws Exception {
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data")).start()) {
            mayfly.cli("apps:create", "fleet");
            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("fleet"));
            MayflyProcess.setVersion(repo, "fleet-1");
            Files.writeString(
                    repo.resolve("mayfly.toml"),
                    Files.readString(repo.resolve("mayfly.toml"))
                            .replace("instances = 1", "instances = 1\nstrategy = \"rolling\""));
            assertThat(mayfly.push(repo, "fleet", "v1").exit()).isZero();

            MayflyProcess.Result scale = mayfly.cli("ps:scale", "-a", "fleet", "3");
            assertThat(scale.exit()).as(scale.out()).isZero();
            assertThat(scale.out()).contains("Scaled fleet to 3 instances");
            assertThat(serving(mayfly)).hasSize(3);

            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger requests = new AtomicInteger();
            List<String> failures = new CopyOnWriteArrayList<>();
            List<Thread> clients = java.util.stream.IntStream.range(0, 2)
                    .mapToObj(n -> Thread.ofPlatform().start(() -> {
                        while (running.get() && requests.incrementAndGet() < 100_000) {
                            try {
                                HttpResponse<String> r = mayfly.visit("fleet", "/");
                                if (r.statusCode() != 200) failures.add(r.statusCode() + ": " + r.body());
                            } catch (Exception e) {
                                failures.add(e.toString());
                            }
                        }
                    }))
                    .toList();

            MayflyProcess.setVersion(repo, "fleet-2");
            MayflyProcess.Result rolling = mayfly.push(repo, "fleet", "v2");
            assertThat(rolling.exit()).as(rolling.out()).isZero();
            assertThat(rolling.out()).contains("rolling 3 process instances over 3, one at a time", "step 3 of 3");

            Files.copy(
                    MayflyProcess.ROOT.resolve("examples/hello-unhealthy/mayfly.toml"),
                    repo.resolve("mayfly.toml"),
                    StandardCopyOption.REPLACE_EXISTING);
            Files.writeString(
                    repo.resolve("mayfly.toml"),
                    Files.readString(repo.resolve("mayfly.toml"))
                            .replace("memory = \"64M\"", "memory = \"64M\"\nstrategy = \"rolling\""));
            MayflyProcess.Result failing = mayfly.push(repo, "fleet", "unhealthy");
            assertThat(failing.exit()).isNotZero();
            assertThat(failing.out())
                    .contains("step 1 of 3", "health check failed", "restored the 3 previous instance(s)");

            running.set(false);
            for (Thread t : clients) t.join();
            assertThat(failures).as("failed requests out of " + requests.get()).isEmpty();
            assertThat(serving(mayfly))
                    .hasSize(3)
                    .allSatisfy(i -> assertThat(i.release()).isEqualTo(2));
            assertThat(mayfly.visit("fleet", "/").body()).contains("fleet-2");

            MayflyProcess.Result down = mayfly.cli("ps:scale", "-a", "fleet", "1");
            assertThat(down.out()).contains("Scaled fleet to 1 instance");
            assertThat(serving(mayfly)).hasSize(1);
            assertThat(mayfly.cli("audit", "-a", "fleet").out()).contains("scale", "3 instances", "1 instance");

            MayflyProcess.Result immediate =
                    mayfly.cli("deploy", "-a", "fleet", "--build", "1", "--strategy", "immediate");
            assertThat(immediate.exit()).as(immediate.out()).isZero();
            assertThat(mayfly.visit("fleet", "/").body()).contains("fleet-1");
            assertThat(mayfly.cli("logs", "-a", "fleet", "-n", "50").out()).contains("release v4 is live");
            assertThat(mayfly.cli("deploy", "-a", "fleet", "--build", "1", "--strategy", "canary")
                            .out())
                    .contains("not a deploy strategy");
        }
    }

    private static List<Views.InstanceView> serving(MayflyProcess mayfly) throws Exception {
        return List.of(Json.read(
                        mayfly.api("GET", "/api/v1/apps/fleet/instances", null).body(), Views.InstanceView[].class))
                .stream()
                .filter(i -> i.state().startsWith("serving"))
                .toList();
    }
}
