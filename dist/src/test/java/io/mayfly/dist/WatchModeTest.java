package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A pull-based host: `mayfly agent --watch URL/job/APP/build/latest` deploys each new build by itself, health-gated. */
class WatchModeTest {
    private static final HttpClient HTTP =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path tmp;

    @Test
    void aWatchingAgentDeploysEachNewBuildAndKeepsTheOldOneWhenTheNewOneIsUnhealthy() throws Exception {
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data")).start()) {
            mayfly.cli("apps:create", "watched");
            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("watched"));
            MayflyProcess.setVersion(repo, "watched-1");
            assertThat(mayfly.push(repo, "watched", "v1").exit()).isZero();

            int agentRouter = MayflyProcess.freePort();
            Path agentData = tmp.resolve("agent");
            Path agentLog = tmp.resolve("agent.log");
            Process agent = new ProcessBuilder(
                            MayflyProcess.java(),
                            "-jar",
                            MayflyProcess.JAR.toString(),
                            "agent",
                            "--watch",
                            "http://127.0.0.1:" + mayfly.apiPort + "/job/watched/build/latest",
                            "--token",
                            mayfly.token(),
                            "--router",
                            "127.0.0.1:" + agentRouter,
                            "--data",
                            agentData.toString(),
                            "--interval",
                            "1s")
                    .redirectErrorStream(true)
                    .redirectOutput(agentLog.toFile())
                    .start();
            try {
                awaitServed(agentRouter, "watched-1", agentLog);

                MayflyProcess.setVersion(repo, "watched-2");
                assertThat(mayfly.push(repo, "watched", "v2").exit()).isZero();
                awaitServed(agentRouter, "watched-2", agentLog);

                // A build uploaded by CI (not pushed) is deployed by the watching agent too.
                MayflyProcess.setVersion(repo, "watched-3");
                MayflyProcess.Result make = MayflyProcess.run(repo, java.util.Map.of(), java.util.List.of("make"));
                assertThat(make.exit()).as(make.out()).isZero();
                MayflyProcess.Result upload = mayfly.cli(
                        "builds:upload", "-a", "watched", repo.resolve("hello").toString(), "--artifact", "hello");
                assertThat(upload.exit()).as(upload.out()).isZero();
                long uploaded = System.nanoTime();
                Files.delete(repo.resolve("hello"));
                awaitServed(agentRouter, "watched-3", agentLog);
                System.out.println("watch mode: an upload served by the agent "
                        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - uploaded)
                        + " ms after it was stored (poll interval 1 s)");

                Files.copy(
                        MayflyProcess.ROOT.resolve("examples/hello-unhealthy/mayfly.toml"),
                        repo.resolve("mayfly.toml"),
                        StandardCopyOption.REPLACE_EXISTING);
                assertThat(mayfly.push(repo, "watched", "unhealthy").exit()).isNotZero(); // the server refuses it too
                awaitLog(agentLog, "health check failed");
                assertThat(visit(agentRouter).body()).contains("watched-3");
                assertThat(Files.readString(agentLog))
                        .contains("deployed build #1", "deployed build #2", "deployed build #3", "keeps serving");
            } finally {
                agent.destroy();
                agent.waitFor(20, TimeUnit.SECONDS);
                stopInstances(agentData.resolve("agent/instances"));
            }
        }
    }

    private static HttpResponse<String> visit(int port) throws IOException, InterruptedException {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                        .timeout(Duration.ofSeconds(5))
                        .header("Host", "watched.localhost:" + port)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void awaitServed(int port, String version, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = visit(port);
                last = r.statusCode() + " " + r.body();
                if (r.statusCode() == 200 && r.body().contains(version)) return;
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the watching agent did not serve " + version + "; last: " + last + "\nagent log:\n"
                + Files.readString(log));
    }

    private static void awaitLog(Path log, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (Files.readString(log).contains(text)) return;
            Thread.sleep(100);
        }
        throw new AssertionError("the agent log never said '" + text + "':\n" + Files.readString(log));
    }

    private static void stopInstances(Path instances) throws IOException {
        if (!Files.isDirectory(instances)) return;
        try (var dirs = Files.list(instances)) {
            for (Path d : dirs.toList()) {
                Path state = d.resolve("state.json");
                if (!Files.exists(state)) continue;
                long pid = Json.MAPPER.readTree(state.toFile()).path("pid").asLong(-1);
                ProcessHandle.of(pid).ifPresent(p -> {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                });
            }
        }
    }
}
