package io.mayfly.agent.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.agent.Agent;
import io.mayfly.agent.StartRequest;
import io.mayfly.agent.driver.process.ProcessDriver;
import io.mayfly.agent.driver.process.TestServer;
import io.mayfly.agent.router.Router;
import io.mayfly.wire.StagedTest;
import io.mayfly.wire.manifest.Manifest;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a guest prints while its health check waits reaches the deploy's progress: paced, and only when the wait is long. */
class ConsoleFollowerTest {
    @TempDir
    Path dir;

    private Router router;
    private Agent agent;
    private int release;

    @BeforeEach
    void start() throws Exception {
        router = new Router("localhost", 2);
        router.start(new InetSocketAddress("127.0.0.1", 0));
        agent = new Agent(dir.resolve("agent"), router, List.of(new ProcessDriver(dir.resolve("sandbox"))));
    }

    @AfterEach
    void stop() {
        agent.instances().forEach(agent::stop);
        agent.close();
    }

    @Test
    void aSlowBootShowsWhatTheGuestPrintsInTheDeploysProgress() throws Exception {
        List<String> progress = deploy("--check", "/app", "--delay-ms", "4500");
        List<String> console =
                progress.stream().filter(l -> l.contains("console: ")).toList();
        assertThat(console)
                .isNotEmpty()
                .hasSizeLessThanOrEqualTo(ConsoleFollower.Pace.MAX_LINES)
                .allSatisfy(l -> assertThat(l).doesNotContain("mayfly"));
        // The guest printed its lines at once and nothing for 4.5 s: the newest of them is said once, then nothing
        // more.
        assertThat(console).containsExactly("       console: a line on stderr");
        assertThat(progress.indexOf(console.getFirst())).isLessThan(indexOfHealthy(progress));
    }

    @Test
    void aFastBootSaysNothingOfItsConsole() throws Exception {
        List<String> progress = deploy("--check", "/app");
        assertThat(progress).noneMatch(l -> l.contains("console: "));
        assertThat(indexOfHealthy(progress)).isNotNegative();
    }

    @Test
    void theLinesArePacedAndCapped() {
        ConsoleFollower.Pace pace = new ConsoleFollower.Pace();
        pace.printed("early");
        assertThat(pace.due(Duration.ofMillis(1999))).isEmpty();
        pace.printed("newest");
        assertThat(pace.due(Duration.ofMillis(2000))).contains("newest");
        pace.printed("a");
        pace.printed("b");
        assertThat(pace.due(Duration.ofMillis(2999))).isEmpty();
        assertThat(pace.due(Duration.ofMillis(3000))).contains("b");
        assertThat(pace.due(Duration.ofMillis(9000))).isEmpty(); // nothing new
        List<String> said = new ArrayList<>();
        for (int s = 10; s < 30; s++) {
            pace.printed("line " + s);
            pace.due(Duration.ofSeconds(s)).ifPresent(said::add);
        }
        assertThat(said).hasSize(ConsoleFollower.Pace.MAX_LINES - 2);
        assertThat(pace.done()).isTrue();
        assertThat(pace.due(Duration.ofSeconds(60))).isEqualTo(Optional.empty());
    }

    private static int indexOfHealthy(List<String> progress) {
        for (int i = 0; i < progress.size(); i++) if (progress.get(i).contains("healthy in")) return i;
        return -1;
    }

    private List<String> deploy(String... flags) throws Exception {
        List<String> args = new ArrayList<>(List.of("--port", "{port}"));
        args.addAll(List.of(flags));
        Manifest.Health health = new Manifest.Health(
                "/",
                200,
                false,
                null,
                Duration.ofSeconds(20),
                Duration.ofMillis(50),
                Duration.ofMillis(500),
                Duration.ZERO);
        StartRequest request = new StartRequest(
                "app",
                ++release,
                TestServer.binary(),
                null,
                args,
                Map.of(),
                Manifest.defaults("server").run(),
                health,
                Duration.ofSeconds(5));
        List<String> lines = new CopyOnWriteArrayList<>();
        DeployOutcome outcome = DeployStrategy.named("blue-green", agent)
                .run(request, 1, Duration.ofSeconds(5), StagedTest.NONE, lines::add);
        assertThat(outcome).as(String.join("\n", lines)).isInstanceOf(DeployOutcome.Live.class);
        return lines;
    }
}
