package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.mayfly.wire.AgentViews;
import io.mayfly.wire.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The split data plane: a server with --no-agent and agents on their own ports and data directories, each with an
 * agent token. Apps are placed on the agents, served by the agents' routers, moved when an agent dies, and keep
 * being served while the server is SIGKILLed; a restarted agent re-adopts its instances.
 */
class RemoteAgentsTest {
    private static final HttpClient HTTP =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path tmp;

    private static MayflyProcess controlPlane(Path data) throws Exception {
        return new MayflyProcess(data)
                .serverOptions("--no-agent", "--agent-timeout", "3s")
                .start();
    }

    /** An agent token for {@code host}, made with the CLI as an admin would. */
    private static String agentToken(MayflyProcess server, String host) throws Exception {
        MayflyProcess.Result created = server.cli("tokens:create", "--agent", host);
        assertThat(created.exit()).as(created.out()).isZero();
        return created.out()
                .lines()
                .filter(l -> l.startsWith("mf_"))
                .findFirst()
                .orElseThrow(() -> new AssertionError(created.out()));
    }

    private static AgentProcess agent(MayflyProcess server, Path dir, String host, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of(
                "--server",
                "http://127.0.0.1:" + server.apiPort,
                "--token",
                agentToken(server, host),
                "--name",
                host,
                "--capacity",
                "1024"));
        args.addAll(List.of(extra));
        return new AgentProcess(dir.resolve(host), args.toArray(String[]::new));
    }

    /** Runs the CLI until its output has every text (agents report every second), or fails with the last output. */
    private static void awaitCli(MayflyProcess server, List<String> args, String... texts) throws Exception {
        Eventually.until(
                Duration.ofSeconds(10),
                () -> server.cli(args.toArray(String[]::new)).out(),
                out -> java.util.Arrays.stream(texts).allMatch(out::contains),
                "mayfly " + String.join(" ", args) + " showing " + List.of(texts));
    }

    private static List<AgentViews.AgentView> agents(MayflyProcess server) throws Exception {
        return List.of(Json.read(server.api("GET", "/api/v1/agents", null).body(), AgentViews.AgentView[].class));
    }

    private static AgentViews.AgentView agentRunning(MayflyProcess server, String app) throws Exception {
        List<AgentViews.AgentView> all = agents(server);
        return all.stream()
                .filter(a -> a.apps().contains(app))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no agent runs " + app + ": " + all));
    }

    private static void awaitAgents(MayflyProcess server, Map<String, String> statuses) throws Exception {
        Eventually.until(
                Duration.ofSeconds(30),
                () -> agents(server).stream()
                        .collect(Collectors.toMap(AgentViews.AgentView::name, AgentViews.AgentView::status)),
                statuses::equals,
                "agents becoming " + statuses);
    }

    @Test
    void appsArePlacedOnTheAgentsServedByTheirRoutersAndMovedWhenAnAgentDies() throws Exception {
        try (MayflyProcess server = controlPlane(tmp.resolve("server"));
                AgentProcess a = agent(server, tmp, "host-a").start();
                AgentProcess b = agent(server, tmp, "host-b").start()) {
            awaitAgents(server, Map.of("host-a", "up", "host-b", "up"));
            assertThat(server.serverLog()).contains("router:       none here (--no-agent)");

            server.cli("apps:create", "hello");
            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("hello"));
            MayflyProcess.setVersion(repo, "multi-1");
            MayflyProcess.Result push = server.push(repo, "hello", "first");
            assertThat(push.exit()).as(push.out()).isZero();
            AgentViews.AgentView first = agentRunning(server, "hello");
            AgentProcess firstHost = first.name().equals("host-a") ? a : b;
            AgentProcess otherHost = firstHost == a ? b : a;
            assertThat(push.out())
                    .contains(
                            "Deploying v1 on agent " + first.name(),
                            "-----> Live at http://hello.localhost:" + firstHost.routerPort,
                            "dispatch",
                            "fetch");
            assertThat(MayflyProcess.visit(firstHost.routerPort, "hello", "/").body())
                    .contains("multi-1");
            assertThat(MayflyProcess.visit(otherHost.routerPort, "hello", "/").statusCode())
                    .isEqualTo(404);
            awaitCli(server, List.of("ps", "-a", "hello"), "HOST", first.name(), "hello-v1-", "serving");
            // What the instance printed on its agent reaches mayfly logs with the heartbeats, under the instance's
            // name.
            awaitCli(server, List.of("logs", "-a", "hello"), "hello-v1-", "hello multi-1 listening on");
            // What its router served reaches the server with the heartbeats (the dashboard's chart is made of it).
            for (int i = 0; i < 5; i++)
                assertThat(MayflyProcess.visit(firstHost.routerPort, "hello", "/")
                                .statusCode())
                        .isEqualTo(200);
            Eventually.until(
                    Duration.ofSeconds(10),
                    () -> agentRunning(server, "hello").requests(),
                    n -> n >= 6,
                    "the agent's router reporting the requests it served");
            // The dashboard lists it with its agent, and its page shows that console too.
            String cookie = dashboardLogin(server);
            String id = server.cli("ps", "-a", "hello")
                    .out()
                    .lines()
                    .filter(l -> l.startsWith("hello-v1-"))
                    .findFirst()
                    .map(l -> l.split("\\s+")[0])
                    .orElseThrow();
            assertThat(dashboard(server, cookie, "/apps/hello/instances").body())
                    .contains(id, "agent " + first.name());
            HttpResponse<String> page = dashboard(server, cookie, "/apps/hello/instances/" + id);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).contains("hello multi-1 listening on");

            // The second app goes to the agent with more free memory: the other one.
            server.cli("apps:create", "second");
            Path repo2 = MayflyProcess.checkoutExample("hello", tmp.resolve("second"));
            MayflyProcess.setVersion(repo2, "second-1");
            MayflyProcess.Result push2 = server.push(repo2, "second", "first");
            assertThat(push2.exit()).as(push2.out()).isZero();
            assertThat(agentRunning(server, "second").name()).isNotEqualTo(first.name());
            assertThat(MayflyProcess.visit(otherHost.routerPort, "second", "/").body())
                    .contains("second-1");
            assertThat(server.cli("agents").out()).contains("host-a", "host-b", "up", "hello", "second", "process");
            assertThat(server.cli("drivers").out())
                    .contains("process", "offered by host-a, host-b")
                    .doesNotContain("solo5-hvt");
            // What each agent's drivers say of its host reaches mayfly drivers with the heartbeats; --reprobe reaches
            // the
            // agent with the answer to its next one: an admin's for every host, an agent token's for its own host only.
            awaitCli(server, List.of("drivers"), "host-a: ", "host-b: ");
            String hostA = agentToken(server, "host-a");
            HttpResponse<String> own = call("POST", server, "/api/v1/drivers/process/reprobe", hostA);
            assertThat(own.statusCode()).as(own.body()).isEqualTo(200);
            assertThat(Json.read(own.body(), io.mayfly.wire.Views.Reprobed.class)
                            .hosts())
                    .containsExactly("host-a");
            assertThat(call("POST", server, "/api/v1/drivers/process/reprobe?agent=host-b", hostA)
                            .statusCode())
                    .isEqualTo(403);
            a.awaitLog("driver process: forgot what it learnt about this host, as the server asked");
            MayflyProcess.Result all = server.cli("drivers", "--reprobe=process");
            assertThat(all.out()).contains("process on host-a, host-b: forgot what it learnt");
            b.awaitLog("driver process: forgot what it learnt about this host, as the server asked");

            // An agent token acts as its own host only.
            String token = agentToken(server, "host-c");
            assertThat(call("GET", server, "/api/v1/apps", token).body()).isEqualTo("[]");
            assertThat(call("GET", server, "/api/v1/agents/host-a/desired", token)
                            .statusCode())
                    .isEqualTo(403);
            assertThat(call("GET", server, "/api/v1/apps/hello/releases", token).statusCode())
                    .isEqualTo(403);
            String sha = server.releases("hello").getFirst().sha256();
            assertThat(call("GET", server, "/api/v1/agents/host-c/blobs/" + sha, token)
                            .statusCode())
                    .as("not assigned to host-c")
                    .isEqualTo(404);

            // The host of hello dies: marked down, hello moves to the other agent, which serves the live release.
            firstHost.kill();
            MayflyProcess.stopInstances(firstHost.data.resolve("agent/instances"));
            awaitAgents(server, Map.of(first.name(), "down", otherHost == a ? "host-a" : "host-b", "up"));
            assertThat(MayflyProcess.awaitServing(otherHost.routerPort, "hello", "multi-1", Duration.ofSeconds(30)))
                    .contains("multi-1");
            assertThat(agentRunning(server, "hello").name()).isNotEqualTo(first.name());
            assertThat(server.cli("logs", "-a", "hello").out())
                    .contains("agent " + first.name() + " is down; v1 moves to agent");

            // A deploy after the move goes to the new host, with the manifest's strategy and its staged test (run by
            // the
            // server against the agent's new instance), and the push shows the agent's steps.
            java.nio.file.Files.writeString(
                    repo.resolve("mayfly.toml"),
                    java.nio.file.Files.readString(repo.resolve("mayfly.toml"))
                                    .replace("instances = 1", "instances = 1\nstrategy = \"rolling\"")
                            + "\n[test]\ncommand = \"curl -fsS $MAYFLY_TEST_URL/ | grep multi-2\"\n");
            MayflyProcess.setVersion(repo, "multi-2");
            MayflyProcess.Result again = server.push(repo, "hello", "second");
            assertThat(again.exit()).as(again.out()).isZero();
            assertThat(again.out())
                    .contains(
                            "Deploying v2 on agent " + (otherHost == a ? "host-a" : "host-b"),
                            "one at a time",
                            "step 1 of 1: routed to hello-v2-",
                            "in place of hello-v1-",
                            "Testing the staged instance",
                            "hello multi-2"); // the server ran the test against the agent's new instance
            assertThat(MayflyProcess.visit(otherHost.routerPort, "hello", "/").body())
                    .contains("multi-2");

            // ps:scale on the agent boots only the missing instance: the one serving stays.
            String serving = server.cli("ps", "-a", "hello")
                    .out()
                    .lines()
                    .filter(l -> l.startsWith("hello-v2-"))
                    .findFirst()
                    .map(l -> l.split("\\s+")[0])
                    .orElseThrow();
            assertThat(server.cli("ps:scale", "-a", "hello", "2").exit()).isZero();
            awaitCli(server, List.of("ps", "-a", "hello"), serving);
            List<String> servingNow = Eventually.until(
                    Duration.ofSeconds(20),
                    () -> server.cli("ps", "-a", "hello")
                            .out()
                            .lines()
                            .filter(l -> l.contains("serving"))
                            .toList(),
                    lines -> lines.size() >= 2,
                    "two instances of hello serving");
            assertThat(servingNow).hasSize(2).anyMatch(l -> l.startsWith(serving));

            // A destroyed app is stopped on its agent.
            assertThat(server.cli("apps:destroy", "second", "--confirm", "second")
                            .exit())
                    .isZero();
            assertThat(Eventually.until(
                            Duration.ofSeconds(20),
                            () -> MayflyProcess.visit(otherHost.routerPort, "second", "/")
                                    .statusCode(),
                            status -> status == 404,
                            "the destroyed app gone from its agent"))
                    .as("no such app there any more")
                    .isEqualTo(404);
            assertThat(MayflyProcess.visit(otherHost.routerPort, "hello", "/").body())
                    .contains("multi-2");
        }
    }

    @Test
    void aServerKilledUnderLoadCostsNoRequestAndARestartedAgentReadoptsItsInstances() throws Exception {
        Path data = tmp.resolve("server");
        MayflyProcess server = controlPlane(data);
        try (AgentProcess host = agent(server, tmp, "solo").start()) {
            awaitAgents(server, Map.of("solo", "up"));
            server.cli("apps:create", "steady");
            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("steady"));
            MayflyProcess.setVersion(repo, "steady-1");
            assertThat(server.push(repo, "steady", "one").exit()).isZero();

            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger ok = new AtomicInteger();
            List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Thread> load = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                load.add(Thread.ofVirtual().start(() -> {
                    while (running.get()) {
                        try {
                            HttpResponse<String> r = MayflyProcess.visit(host.routerPort, "steady", "/");
                            if (r.statusCode() == 200 && r.body().contains("steady-")) ok.incrementAndGet();
                            else failures.add(r.statusCode() + " " + r.body());
                        } catch (Exception e) {
                            failures.add(e.toString());
                        }
                    }
                }));
            }
            Thread.sleep(500);
            server.kill();
            Thread.sleep(2000); // the agent keeps serving on its own, polling for the server in the background
            int duringOutage = ok.get();
            server.start();
            MayflyProcess.setVersion(repo, "steady-2");
            MayflyProcess.Result push = server.push(repo, "steady", "two");
            assertThat(push.exit()).as(push.out()).isZero();
            MayflyProcess.awaitServing(host.routerPort, "steady", "steady-2", Duration.ofSeconds(30));
            running.set(false);
            for (Thread t : load) t.join();
            assertThat(failures)
                    .as("requests failed while the server was killed, restarted and deployed")
                    .isEmpty();
            assertThat(duringOutage).isGreaterThan(50);

            // The agent itself is SIGKILLed and restarted: the instance is re-adopted, not restarted, and serves again.
            JsonNode before = instance(host, "steady-v2-");
            host.kill();
            host.start();
            long restarted = System.nanoTime();
            MayflyProcess.awaitServing(host.routerPort, "steady", "steady-2", Duration.ofSeconds(10));
            long servingAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restarted);
            assertThat(instance(host, "steady-v2-").path("pid").asLong())
                    .as("the same process serves")
                    .isEqualTo(before.path("pid").asLong());
            System.out.println(
                    "agent restart: serving again " + servingAfterMs + " ms after its router accepted connections");
        } finally {
            server.close();
        }
    }

    @Test
    void anAppScaledToZeroOnAnAgentStopsWhenIdleAndTheAgentBootsItForTheNextRequest() throws Exception {
        try (MayflyProcess server = controlPlane(tmp.resolve("server"));
                AgentProcess host = agent(server, tmp, "lazy-host").start()) {
            awaitAgents(server, Map.of("lazy-host", "up"));
            server.cli("apps:create", "sleepy");
            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("sleepy"));
            MayflyProcess.setVersion(repo, "sleepy-1");
            java.nio.file.Files.writeString(
                    repo.resolve("mayfly.toml"),
                    java.nio.file.Files.readString(repo.resolve("mayfly.toml"))
                            .replace("instances = 1", "instances = 0\nidle_stop = \"1s\""));
            MayflyProcess.Result push = server.push(repo, "sleepy", "v1");
            assertThat(push.exit()).as(push.out()).isZero();
            for (int round = 0; round < 2; round++) {
                awaitCli(server, List.of("ps", "-a", "sleepy"), "sleepy has no instances");
                HttpResponse<String> first = MayflyProcess.visit(host.routerPort, "sleepy", "/");
                assertThat(first.statusCode()).isEqualTo(200);
                assertThat(first.body()).contains("sleepy-1");
            }
            assertThat(host.log()).contains("booting an instance", "sleepy: booted v1 on demand in ");
            // And the server's mayfly logs has the agent's events about the app.
            awaitCli(
                    server,
                    List.of("logs", "-a", "sleepy"),
                    "agent ",
                    "booting an instance",
                    "booted v1 on demand in ");
        }
    }

    /**
     * The one running instance whose id starts with {@code prefix} under the agent's data directory (the previous
     * release's may still stand by in its liveness window).
     */
    private static JsonNode instance(AgentProcess host, String prefix) throws Exception {
        try (var dirs = java.nio.file.Files.list(host.data.resolve("agent/instances"))) {
            List<Path> states = dirs.filter(d -> d.getFileName().toString().startsWith(prefix))
                    .map(d -> d.resolve("state.json"))
                    .filter(java.nio.file.Files::exists)
                    .toList();
            assertThat(states).hasSize(1);
            return Json.MAPPER.readTree(states.getFirst().toFile());
        }
    }

    /** Logs in to the dashboard with the admin token; returns the session cookie. */
    private static String dashboardLogin(MayflyProcess server) throws Exception {
        HttpResponse<String> r = HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.apiPort + "/login"))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString("next=%2Fapps&token=" + server.token()))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(303);
        return r.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
    }

    private static HttpResponse<String> dashboard(MayflyProcess server, String cookie, String path) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.apiPort + path))
                        .header("Cookie", cookie)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> call(String method, MayflyProcess server, String path, String token)
            throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.apiPort + path))
                        .method(method, HttpRequest.BodyPublishers.noBody())
                        .header("Authorization", "Bearer " + token)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
