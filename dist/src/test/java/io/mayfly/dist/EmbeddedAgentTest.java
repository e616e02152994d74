package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.AgentViews;
import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default server's embedded agent takes the same HTTP path as a remote one: it is a registered agent with a
 * token of its own, fetches each artifact through the agent blob route into its own cache (pruned of what nothing
 * runs). It is a process of its own that outlives the server: a restarted server adopts it, with what it runs, under
 * the same token (kept in DATA/agent.token, mode 0600).
 */
class EmbeddedAgentTest {
    @TempDir
    Path tmp;

    private static List<AgentViews.AgentView> agents(MayflyProcess mayfly) throws Exception {
        return List.of(Json.read(mayfly.api("GET", "/api/v1/agents", null).body(), AgentViews.AgentView[].class));
    }

    private static long activeEmbeddedTokens(MayflyProcess mayfly) throws Exception {
        return mayfly.cli("tokens")
                .out()
                .lines()
                .filter(l -> l.contains("embedded agent"))
                .filter(l -> !l.contains("revoked"))
                .count();
    }

    @Test
    void theEmbeddedAgentIsARegisteredAgentFetchingOverHttpAndReadoptsAfterARestart() throws Exception {
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("server")).start()) {
            assertThat(mayfly.cli("apps:create", "inside").exit()).isZero();
            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("inside"));
            MayflyProcess.setVersion(repo, "inside-1");
            MayflyProcess.Result push = mayfly.push(repo, "inside", "v1");
            assertThat(push.exit()).as(push.out()).isZero();
            assertThat(push.out())
                    .contains("dispatch", "fetch", "-----> Live at http://inside.localhost:" + mayfly.routerPort);

            AgentViews.AgentView local = agents(mayfly).getFirst();
            assertThat(agents(mayfly)).hasSize(1);
            assertThat(local.name()).isEqualTo("local");
            assertThat(local.status()).isEqualTo("up");
            assertThat(local.apps()).containsExactly("inside");
            assertThat(local.drivers()).contains("process");
            assertThat(local.router()).endsWith(":" + mayfly.routerPort);

            // The image it runs came through /api/v1/agents/local/blobs/SHA into the agent's own cache.
            String sha = mayfly.releases("inside").getFirst().sha256();
            assertThat(mayfly.data.resolve("cache").resolve(sha)).exists();
            assertThat(activeEmbeddedTokens(mayfly)).isEqualTo(1);
            assertThat(mayfly.visit("inside", "/").statusCode()).isEqualTo(200);
            Eventually.until(
                    Duration.ofSeconds(10),
                    () -> agents(mayfly).getFirst().requests(),
                    n -> n >= 1,
                    "local reporting what it served");

            Views.InstanceView before = instances(mayfly).getFirst();
            long agentPid = MayflyProcess.agentPid(mayfly.data.resolve("agent"));
            assertThat(Files.getPosixFilePermissions(mayfly.data.resolve("agent.token")))
                    .containsExactlyInAnyOrder(
                            java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
            mayfly.stop();
            assertThat(ProcessHandle.of(agentPid).map(ProcessHandle::isAlive))
                    .as("the agent outlives the server")
                    .contains(true);
            mayfly.start();
            // Adopted, not restarted: the same agent and the same instance serve, under the same token.
            assertThat(mayfly.visit("inside", "/").body()).contains("inside-1");
            Views.InstanceView after = instances(mayfly).getFirst();
            assertThat(after.id()).isEqualTo(before.id());
            assertThat(after.pid()).isEqualTo(before.pid());
            Eventually.until(
                    Duration.ofSeconds(10),
                    () -> agents(mayfly).getFirst().status(),
                    "up"::equals,
                    "the embedded agent up again");
            assertThat(MayflyProcess.agentPid(mayfly.data.resolve("agent"))).isEqualTo(agentPid);
            assertThat(activeEmbeddedTokens(mayfly)).as("one token, kept").isEqualTo(1);
            assertThat(mayfly.cli("tokens").out()).doesNotContain("revoked");

            // And it deploys over the same path after the restart (v1 stands by for a second only: the cache below
            // waits for it).
            MayflyProcess.setVersion(repo, "inside-2");
            Files.writeString(
                    repo.resolve("mayfly.toml"),
                    Files.readString(repo.resolve("mayfly.toml")).replace("[health]", "[health]\nliveness = \"1s\""));
            MayflyProcess.Result again = mayfly.push(repo, "inside", "v2");
            assertThat(again.exit()).as(again.out()).isZero();
            assertThat(mayfly.visit("inside", "/").body()).contains("inside-2");

            // The agent's cache keeps what it runs, and lets go of v1's image once nothing runs it, v1 having stood by.
            Path cache = mayfly.data.resolve("cache");
            assertThat(cache.resolve(mayfly.releases("inside").getFirst().sha256()))
                    .exists();
            Eventually.until(
                    Duration.ofSeconds(20),
                    () -> Files.exists(cache.resolve(sha)),
                    exists -> !exists,
                    "v1's image gone from the cache");

            // mayfly server --stop-agent: a clean shutdown stops the agent too.
            mayfly.stop();
            mayfly.serverOptions("--stop-agent").start();
            assertThat(MayflyProcess.agentPid(mayfly.data.resolve("agent")))
                    .as("adopted again")
                    .isEqualTo(agentPid);
            mayfly.stop();
            assertThat(MayflyProcess.ended(agentPid))
                    .as("the agent stopped with the server")
                    .isTrue();
        }
    }

    private static List<Views.InstanceView> instances(MayflyProcess mayfly) throws Exception {
        return List.of(Json.read(
                mayfly.api("GET", "/api/v1/apps/inside/instances", null).body(), Views.InstanceView[].class));
    }
}
