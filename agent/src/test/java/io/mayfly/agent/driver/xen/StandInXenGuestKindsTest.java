package io.mayfly.agent.driver.xen;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.agent.deploy.DeployOutcome;
import io.mayfly.agent.deploy.GuestKindsContract;
import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.StandIns;
import io.mayfly.wire.manifest.Manifest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The guest kinds on the xen driver with the stand-in xl of {@link XenDriverTest} (Xen cannot run here): each domain's
 * guest is testserver, its console a file that the stand-in's {@code xl console} prints, and a guest that ends takes
 * its domain out of {@code xl list}, as on_crash and on_poweroff = "destroy" do. Mayfly reaches a Xen guest on no port,
 * so its guests are checked by their console only: the kinds that only an HTTP or TCP check tells apart (never
 * listens, listens late) are skipped, and an HTTP or TCP check fails at once saying so. The router still sends an
 * app's requests to 127.0.0.1:PORT, which for a real Xen guest the host must forward to it; the stand-in's guest
 * listens there itself ({@code --port {port}}), which is what the load through the router during a rollback needs.
 */
class StandInXenGuestKindsTest extends GuestKindsContract {
    @Override
    protected List<Driver> drivers(Path dir) throws Exception {
        return List.of(
                new XenDriver(StandIns.script(dir.resolve("stand-ins"), "xl", XenDriverTest.STAND_IN_XL), "xenbr0"));
    }

    @Override
    protected EnumSet<Check> checks() {
        return EnumSet.of(Check.CONSOLE);
    }

    @Override
    protected Manifest.Run run() {
        return runOn("xen");
    }

    @Override
    protected List<String> serving() {
        return List.of("--port", "{port}");
    }

    @Test
    void anHttpOrTcpCheckFailsAtOnceSayingToCheckTheConsole() throws Exception {
        for (Manifest.Health check : List.of(http(Duration.ofSeconds(10)), tcp(Duration.ofSeconds(10)))) {
            long began = System.nanoTime();
            DeployOutcome outcome = deploy(check, List.of("--port", "{port}", "--name", "unchecked"));

            assertThat(outcome)
                    .as(check.toString())
                    .isInstanceOfSatisfying(
                            DeployOutcome.Failed.class,
                            f -> assertThat(f.reason())
                                    .contains(
                                            "the xen driver cannot reach its guests for an HTTP or TCP health check",
                                            "[health] console = "));
            assertThat(Duration.ofNanos(System.nanoTime() - began))
                    .as("not the 10 s of its timeout")
                    .isLessThan(Duration.ofSeconds(5));
        }
    }
}
