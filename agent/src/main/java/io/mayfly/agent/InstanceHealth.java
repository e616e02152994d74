package io.mayfly.agent;

import io.mayfly.agent.driver.ConsoleLines;
import io.mayfly.agent.health.HealthCheck;
import io.mayfly.wire.manifest.Manifest;
import java.time.Duration;
import java.util.List;

/**
 * Whether an instance's guest is up, checked as its release's {@code [health]} says, and the last lines the guest
 * printed, which every error about the instance quotes.
 */
final class InstanceHealth {
    /** How many of the guest's last lines an error quotes. */
    static final int LAST_LINES = 5;
    /** How many failed checks in a row take a running instance for dead (a liveness check, a liveness window's probe). */
    static final int LIVENESS_FAILURES = 3;

    private InstanceHealth() {}

    /**
     * Waits until the instance's guest passes its health check ({@code [health]}: HTTP, TCP or console), it exits, or
     * the health timeout passes. An unhealthy result says what happened and quotes the guest's last lines.
     */
    static HealthCheck.Result awaitHealthy(Instance instance) {
        Manifest.Health h = instance.request().health();
        HealthCheck.Result result =
                check(instance, h).await(h.timeout(), instance.handle().exited());
        if (result instanceof HealthCheck.Unhealthy(String reason, Duration took, int attempts)) {
            List<String> last = lastLines(instance);
            return new HealthCheck.Unhealthy(
                    reason
                            + (last.isEmpty()
                                    ? "; it printed nothing"
                                    : "; its last lines: " + String.join(" | ", last)),
                    took,
                    attempts);
        }
        return result;
    }

    /** One probe of a running instance (a liveness check), given {@code h.tryTimeout()} to answer. */
    static HealthCheck.Result probe(Instance instance, Manifest.Health h) {
        return check(instance, h).await(h.tryTimeout(), instance.handle().exited());
    }

    private static HealthCheck check(Instance instance, Manifest.Health h) {
        return HealthCheck.of(
                h, instance.handle().guest(), instance.handle().state().logFile(), instance.consoleFrom());
    }

    /** The last lines the instance's guest printed since it started (Mayfly's own lines left out). */
    static List<String> lastLines(Instance instance) {
        return ConsoleLines.last(instance.handle().state().logFile(), instance.consoleFrom(), LAST_LINES);
    }
}
