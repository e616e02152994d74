package io.mayfly.agent;

import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.health.HealthCheck;
import io.mayfly.agent.reconcile.RestartPolicy;
import io.mayfly.wire.manifest.Manifest;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches routed instances. One that exits, or fails its liveness check {@value InstanceHealth#LIVENESS_FAILURES} times in a row,
 * is taken out of the route and started again after the policy's back-off; the new instance gets traffic once it is
 * healthy. A deploy that replaces the app's instances meanwhile cancels the restart.
 */
final class Supervisor {
    // The name its lines always had in the agent's log, from when it lived in the supervisor package.
    private static final Logger log = LoggerFactory.getLogger("io.mayfly.agent.supervisor.Supervisor");
    static final Duration LIVENESS_PERIOD = Duration.ofSeconds(5);

    private final RestartPolicy policy;
    private final AgentEvents events;
    private final CrashedSlots slots;
    private final LivenessWindows windows;
    private final Launcher launcher;
    private final InstanceTable table;
    private final Routes routes;

    Supervisor(
            RestartPolicy policy,
            AgentEvents events,
            CrashedSlots slots,
            LivenessWindows windows,
            Launcher launcher,
            InstanceTable table,
            Routes routes) {
        this.policy = policy;
        this.events = events;
        this.slots = slots;
        this.windows = windows;
        this.launcher = launcher;
        this.table = table;
        this.routes = routes;
    }

    /** Watches the instance, unless it already is watched. */
    void supervise(Instance instance) {
        if (slots.markWatched(instance)) watch(instance);
    }

    private void watch(Instance instance) {
        Instant since = instance.state().startedAt() == null
                ? Instant.now()
                : instance.state().startedAt();
        instance.handle()
                .exited()
                .thenAccept(code ->
                        Thread.ofVirtual().name("restart-" + instance.id()).start(() -> onExit(instance, code, since)));
        Thread.ofVirtual().name("liveness-" + instance.id()).start(() -> liveness(instance));
    }

    private void onExit(Instance dead, int code, Instant since) {
        Duration lived = Duration.between(since, Instant.now());
        String why = "exited" + (code >= 0 ? " with code " + code : "") + " after " + AgentEvents.human(lived);
        // In its liveness window a new release is not restarted: the one standing by takes the traffic back.
        if (windows.rollBackIfWatched(dead, why)) return;
        if (!slots.crashed(dead)) return; // stopped on purpose, or no longer routed
        int streak = policy.streakAfter(lived, dead.crashStreak());
        while (slots.awaitingRestart(dead)) {
            Duration delay = policy.delay(streak);
            events.event(
                    dead.app(),
                    "instance " + dead.id() + " " + why + "; restart #" + (dead.restarts() + 1)
                            + (delay.isZero() ? " now" : " in " + AgentEvents.human(delay)));
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                return;
            }
            if (!slots.awaitingRestart(dead)) return;
            streak++;
            Instance fresh;
            try {
                fresh = launcher.restart(dead, streak);
            } catch (DriverException e) {
                why = "could not be restarted: " + e.getMessage();
                continue;
            }
            HealthCheck.Result health = InstanceHealth.awaitHealthy(fresh);
            if (health instanceof HealthCheck.Unhealthy sick) {
                table.stop(fresh);
                why = "was restarted as " + fresh.id() + " but failed its health check: " + sick.reason();
                continue;
            }
            if (slots.replaceCrashed(dead, fresh)) {
                events.event(
                        dead.app(),
                        "instance " + dead.id() + " restarted as " + fresh.id() + " (restart #" + fresh.restarts()
                                + ")");
                watch(fresh);
            } else {
                table.stop(fresh); // a deploy replaced the app's instances meanwhile
            }
            return;
        }
    }

    private void liveness(Instance instance) {
        Manifest.Health h = instance.request().health();
        // A console line proves a start; once printed it says nothing about later: such an instance is watched by its
        // exit alone,
        // as is one whose guest no HTTP or TCP check can reach.
        if (h.console() != null || instance.handle().guest().unreachable().isPresent()) return;
        int failures = 0;
        while (instance.handle().isAlive()) {
            try {
                Thread.sleep(LIVENESS_PERIOD);
            } catch (InterruptedException e) {
                return;
            }
            if (!instance.handle().isAlive() || !routes.isRouted(instance)) return;
            HealthCheck.Result result = InstanceHealth.probe(instance, h);
            if (result instanceof HealthCheck.Unhealthy sick) {
                failures++;
                log.warn(
                        "instance {} failed its liveness check ({} of {}): {}",
                        instance.id(),
                        failures,
                        InstanceHealth.LIVENESS_FAILURES,
                        sick.reason());
                if (failures >= InstanceHealth.LIVENESS_FAILURES) {
                    events.event(
                            instance.app(),
                            "instance " + instance.id() + " failed its liveness check " + failures + " times in a row ("
                                    + sick.reason() + "); stopping it to restart it");
                    instance.handle().stop(instance.request().stopGrace());
                    return;
                }
            } else {
                failures = 0;
            }
        }
    }
}
