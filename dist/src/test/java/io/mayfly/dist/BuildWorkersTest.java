package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.Json;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Build workers: with agents started with --builds present, pushes are built on them (each build on exactly one,
 * its output streamed into the push), not on the server; once they are gone the server builds again itself, and a
 * rebuild there of a worker's build comes out byte for byte the same.
 */
class BuildWorkersTest {
    private static final Pattern BUILT_ON = Pattern.compile("mayfly: building on worker (\\S+)");

    @TempDir
    Path tmp;

    @Test
    void pushesAreBuiltOnTheWorkersWhileThereAreAndOnTheServerAfter() throws Exception {
        try (MayflyProcess server = new MayflyProcess(tmp.resolve("server")).start();
                AgentProcess one = worker(server, "builder-1").start();
                AgentProcess two = worker(server, "builder-2").start()) {
            awaitWorkers(server, List.of("builder-1", "builder-2"));
            one.awaitLog("runs its instances on its own embedded agent"); // and so it only builds

            Path first = repo(server, "first");
            Path second = repo(server, "second");
            CompletableFuture<MayflyProcess.Result> a = push(server, first, "first");
            CompletableFuture<MayflyProcess.Result> b = push(server, second, "second");
            Set<String> used = new TreeSet<>();
            for (MayflyProcess.Result r : List.of(a.get(2, TimeUnit.MINUTES), b.get(2, TimeUnit.MINUTES))) {
                assertThat(r.exit()).as(r.out()).isZero();
                Matcher m = BUILT_ON.matcher(r.out());
                assertThat(m.find()).as(r.out()).isTrue();
                used.add(m.group(1));
                assertThat(m.find()).as("built once").isFalse();
                assertThat(r.out())
                        .contains(
                                "queued for a build worker", "cc -O2", "-----> Stored hello sha256:", "-----> Live at");
            }
            assertThat(used).isSubsetOf("builder-1", "builder-2");
            assertThat(server.visit("first", "/").body()).contains("first-1");
            assertThat(server.visit("second", "/").body()).contains("second-1");
            assertThat(server.cli("builds", "-a", "first").out()).contains("#1");
            assertThat(one.log() + two.log()).contains("building first", "building second");

            // The workers go away: the server builds by itself again, and the same commit comes out the same.
            one.close();
            two.close();
            awaitWorkers(server, List.of());
            MayflyProcess.Result rebuilt = server.cli("builds:rebuild", "-a", "first", "1");
            assertThat(rebuilt.exit()).as(rebuilt.out()).isZero();
            assertThat(rebuilt.out())
                    .doesNotContain("building on worker")
                    .contains("reproducible: build #1 and rebuild #2 have identical artifacts");
        }
    }

    private static AgentProcess worker(MayflyProcess server, String name) throws Exception {
        MayflyProcess.Result token = server.cli("tokens:create", "--agent", name);
        String secret = token.out()
                .lines()
                .filter(l -> l.startsWith("mf_"))
                .findFirst()
                .orElseThrow(() -> new AssertionError(token.out()));
        return new AgentProcess(
                server.data.resolveSibling(name),
                "--server",
                "http://127.0.0.1:" + server.apiPort,
                "--token",
                secret,
                "--name",
                name,
                "--builds");
    }

    private static void awaitWorkers(MayflyProcess server, List<String> expected) throws Exception {
        Eventually.until(
                java.time.Duration.ofSeconds(30),
                () -> List.of(
                        Json.read(server.api("GET", "/api/v1/workers", null).body(), String[].class)),
                expected::equals,
                "the workers present becoming " + expected);
    }

    private static Path repo(MayflyProcess server, String app) throws Exception {
        server.cli("apps:create", app);
        Path repo = MayflyProcess.checkoutExample("hello", server.data.resolveSibling(app + "-repo"));
        MayflyProcess.setVersion(repo, app + "-1");
        return repo;
    }

    private static CompletableFuture<MayflyProcess.Result> push(MayflyProcess server, Path repo, String app) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return server.push(repo, app, "first");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
