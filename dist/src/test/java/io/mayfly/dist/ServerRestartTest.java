package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.server.store.TestPostgres;
import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Restarting {@code mayfly server}, or killing it, drops no request: the router and the instances live in the
 * embedded agent's process, which keeps serving without the server and is adopted by the next start. With a
 * request loop through the router, on SQLite and on PostgreSQL: a SIGTERM and a start again, then a SIGKILL and a
 * start again; no request fails, the same agent and instance (same pids) serve, and a deploy right after works.
 */
class ServerRestartTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "postgresql"})
    void theAppsKeepServingThroughARestartAndACrashOfTheServer(String store) throws Exception {
        MayflyProcess server = new MayflyProcess(tmp.resolve("server"));
        if (store.equals("postgresql")) server.serverOptions("--db", TestPostgres.newDatabase());
        try (MayflyProcess mayfly = server.start()) {
            assertThat(mayfly.cli("apps:create", "steady").exit()).isZero();
            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("steady"));
            MayflyProcess.setVersion(repo, "steady-1");
            MayflyProcess.Result push = mayfly.push(repo, "steady", "v1");
            assertThat(push.exit()).as(push.out()).isZero();
            long agentPid = MayflyProcess.agentPid(mayfly.data.resolve("agent"));
            Views.InstanceView before = instances(mayfly).getFirst();

            for (String how : List.of("SIGTERM", "SIGKILL")) {
                LoadLoop load = LoadLoop.start(mayfly, "steady", 2);
                Thread.sleep(300);
                if (how.equals("SIGTERM")) mayfly.stop();
                else mayfly.kill();
                Thread.sleep(1000); // no server at all for a second
                mayfly.start();
                Thread.sleep(300);
                load.close();
                System.out.printf(
                        "%s, %s: %d requests through the router, %d failed, longest gap between two answers %d ms%n",
                        store, how, load.requests(), load.failures().size(), load.longestGapMillis());
                assertThat(load.failures()).as(how).isEmpty();
                assertThat(load.requests()).as(how).isGreaterThan(20);
                assertThat(MayflyProcess.agentPid(mayfly.data.resolve("agent")))
                        .as("the same agent, adopted")
                        .isEqualTo(agentPid);
                Views.InstanceView after = instances(mayfly).getFirst();
                assertThat(after.id()).isEqualTo(before.id());
                assertThat(after.pid()).as("the same instance").isEqualTo(before.pid());
            }

            // A deploy right after.
            MayflyProcess.setVersion(repo, "steady-2");
            MayflyProcess.Result again = mayfly.push(repo, "steady", "v2");
            assertThat(again.exit()).as(again.out()).isZero();
            assertThat(mayfly.visit("steady", "/").body()).contains("steady-2");
        }
    }

    /** The app's instances once its agent reports them (a restarted server hears from it within a heartbeat or two). */
    private static List<Views.InstanceView> instances(MayflyProcess mayfly) throws Exception {
        return Eventually.until(
                java.time.Duration.ofSeconds(10),
                () -> List.of(Json.read(
                        mayfly.api("GET", "/api/v1/apps/steady/instances", null).body(), Views.InstanceView[].class)),
                l -> !l.isEmpty(),
                "the agent reporting its instances");
    }
}
