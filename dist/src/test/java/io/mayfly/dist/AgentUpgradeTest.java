package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.AgentViews;
import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upgrading the agent drops no request: a second build of Mayfly (another version string in its jar) takes over the
 * router's port beside the running agent (SO_REUSEPORT), adopts its instances from their state files, and the old
 * agent answers each open connection's next request with Connection: close and exits. With a request loop through
 * the router: zero failed requests, the same instances (same pids), the new version registered, and a deploy right
 * after works. For the embedded agent (the server started from the new jar upgrades it) and for a remote one
 * ({@code mayfly agent --take-over}).
 */
class AgentUpgradeTest {
    @TempDir
    Path tmp;

    @Test
    void startingTheServerOfANewVersionUpgradesItsEmbeddedAgentWithoutDroppingARequest() throws Exception {
        Path upgrade = MayflyProcess.jarWithVersion(tmp.resolve("jars"), "9.9.9-upgrade");
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("server")).start()) {
            Path repo = deployHello(mayfly, "steady");
            long oldAgent = MayflyProcess.agentPid(mayfly.data.resolve("agent"));
            Views.InstanceView before = instances(mayfly, "steady").getFirst();

            LoadLoop load = LoadLoop.start(mayfly, "steady", 2);
            Thread.sleep(300);
            mayfly.stop();
            mayfly.jar(upgrade).start(); // returns once the new agent has taken over and registered
            Thread.sleep(500);
            load.close();
            System.out.printf(
                    "embedded agent upgrade: %d requests through the router, %d failed, longest gap between two answers %d ms%n",
                    load.requests(), load.failures().size(), load.longestGapMillis());
            assertThat(load.failures()).isEmpty();
            assertThat(load.requests()).isGreaterThan(20);

            long newAgent = MayflyProcess.agentPid(mayfly.data.resolve("agent"));
            assertThat(newAgent).as("a new agent process").isNotEqualTo(oldAgent);
            assertThat(MayflyProcess.ended(oldAgent)).as("the old agent exited").isTrue();
            assertThat(agents(mayfly).getFirst().version()).isEqualTo("9.9.9-upgrade");
            assertThat(mayfly.cli("version").out()).contains("server", "9.9.9-upgrade", "agent local");
            Views.InstanceView after = instances(mayfly, "steady").getFirst();
            assertThat(after.id()).isEqualTo(before.id());
            assertThat(after.pid()).as("the same instance, adopted").isEqualTo(before.pid());

            MayflyProcess.setVersion(repo, "steady-2");
            MayflyProcess.Result again = mayfly.push(repo, "steady", "v2");
            assertThat(again.exit()).as(again.out()).isZero();
            assertThat(mayfly.visit("steady", "/").body()).contains("steady-2");
        }
    }

    @Test
    void aRemoteAgentOfANewVersionTakesOverWithoutDroppingARequest() throws Exception {
        Path upgrade = MayflyProcess.jarWithVersion(tmp.resolve("jars"), "9.9.9-upgrade");
        try (MayflyProcess server = new MayflyProcess(tmp.resolve("server"))
                .serverOptions("--no-agent")
                .start()) {
            MayflyProcess.Result created = server.cli("tokens:create", "--agent", "edge");
            String token = created.out()
                    .lines()
                    .filter(l -> l.startsWith("mf_"))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(created.out()));
            AgentProcess first = new AgentProcess(
                            tmp.resolve("edge"),
                            "--server",
                            "http://127.0.0.1:" + server.apiPort,
                            "--token",
                            token,
                            "--name",
                            "edge",
                            "--capacity",
                            "1024")
                    .start();
            AgentProcess second = null;
            try {
                Eventually.until(
                        Duration.ofSeconds(30),
                        () -> agents(server),
                        l -> l.size() == 1 && l.getFirst().status().equals("up"),
                        "edge up");
                Path repo = deployHello(server, "edgy");
                Views.InstanceView before = instances(server, "edgy").getFirst();

                LoadLoop load = LoadLoop.start(first.routerPort, "edgy", 2);
                Thread.sleep(300);
                second = first.successor(upgrade).startTakingOver();
                Thread.sleep(500);
                load.close();
                System.out.printf(
                        "remote agent upgrade: %d requests through the router, %d failed, longest gap between two answers %d ms%n",
                        load.requests(), load.failures().size(), load.longestGapMillis());
                assertThat(load.failures()).isEmpty();
                assertThat(load.requests()).isGreaterThan(20);
                assertThat(MayflyProcess.ended(first.pid()))
                        .as("the old agent exited")
                        .isTrue();
                Eventually.until(
                        Duration.ofSeconds(30),
                        () -> agents(server).getFirst().version(),
                        "9.9.9-upgrade"::equals,
                        "edge on the new version");
                Views.InstanceView after = instances(server, "edgy").getFirst();
                assertThat(after.pid()).as("the same instance, adopted").isEqualTo(before.pid());

                // An agent speaking another protocol is refused, told which side to upgrade; the registered one stays.
                var refused = java.net.http.HttpClient.newHttpClient()
                        .send(
                                java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                                                "http://127.0.0.1:" + server.apiPort + "/api/v1/agents/edge"))
                                        .header("Authorization", "Bearer " + token)
                                        .header("Content-Type", "application/json")
                                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                                                Json.write(new AgentViews.Registration(
                                                        List.of("process"),
                                                        1024,
                                                        "127.0.0.1:1",
                                                        java.util.Map.of(),
                                                        "99.0.0",
                                                        AgentViews.PROTOCOL + 1))))
                                        .build(),
                                java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(refused.statusCode()).isEqualTo(409);
                assertThat(refused.body())
                        .contains("speaks agent protocol " + (AgentViews.PROTOCOL + 1), "upgrade the server");
                assertThat(agents(server).getFirst().version()).isEqualTo("9.9.9-upgrade");

                MayflyProcess.setVersion(repo, "edgy-2");
                MayflyProcess.Result again = server.push(repo, "edgy", "v2");
                assertThat(again.exit()).as(again.out()).isZero();
                assertThat(MayflyProcess.visit(first.routerPort, "edgy", "/").body())
                        .contains("edgy-2");
            } finally {
                if (second != null) second.close();
                else first.close();
            }
        }
    }

    private Path deployHello(MayflyProcess mayfly, String app) throws Exception {
        assertThat(mayfly.cli("apps:create", app).exit()).isZero();
        Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve(app));
        MayflyProcess.setVersion(repo, app + "-1");
        MayflyProcess.Result push = mayfly.push(repo, app, "v1");
        assertThat(push.exit()).as(push.out()).isZero();
        return repo;
    }

    private static List<AgentViews.AgentView> agents(MayflyProcess mayfly) throws Exception {
        return List.of(Json.read(mayfly.api("GET", "/api/v1/agents", null).body(), AgentViews.AgentView[].class));
    }

    /** The app's instances once its agent reports them. */
    private static List<Views.InstanceView> instances(MayflyProcess mayfly, String app) throws Exception {
        return Eventually.until(
                Duration.ofSeconds(10),
                () -> List.of(Json.read(
                        mayfly.api("GET", "/api/v1/apps/" + app + "/instances", null)
                                .body(),
                        Views.InstanceView[].class)),
                l -> !l.isEmpty(),
                "the agent reporting the instances of " + app);
    }
}
