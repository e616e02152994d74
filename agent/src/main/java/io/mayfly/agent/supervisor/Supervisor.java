package io.mayfly.agent.supervisor;

import io.mayfly.agent.Agent;
import io.mayfly.agent.AgentEvents;
import io.mayfly.wire.manifest.Manifest;
import io.mayfly.agent.Instance;
import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.health.HealthCheck;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;

/**
 * Watches routed instances. One that exits, or fails its liveness check {@value #LIVENESS_FAILURES} times in a row,
 * is taken out of the route and started again after the policy's back-off; the new instance gets traffic once it is
 * healthy. A deploy that replaces the app's instances meanwhile cancels the restart.
 */
public final class Supervisor {
    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);
    static final Duration LIVENESS_PERIOD = Duration.ofSeconds(5);
    public static final int LIVENESS_FAILURES = 3;

    private final Agent agent;
    private final RestartPolicy policy;
    private final AgentEvents events;

    public Supervisor(Agent agent, RestartPolicy policy, AgentEvents events) {
        this.agent = agent;
        this.policy = policy;
        this.events = events;
    }

    public void watch(Instance instance) {
        Instant since = instance.state().startedAt() == null ? Instant.now() : instance.state().startedAt();
        instance.handle().exited().thenAccept(code -> Thread.ofVirtual().name("restart-" + instance.id())
                .start(() -> onExit(instance, code, since)));
        Thread.ofVirtual().name("liveness-" + instance.id()).start(() -> liveness(instance));
    }

    private void onExit(Instance dead, int code, Instant since) {
        Duration lived = Duration.between(since, Instant.now());
        // In its liveness window a new release is not restarted: the one standing by takes the traffic back.
        if (agent.rollBackIfWatched(dead, "exited" + (code >= 0 ? " with code " + code : "") + " after " + human(lived))) return;
        if (!agent.crashed(dead)) return; // stopped on purpose, or no longer routed
        int streak = policy.streakAfter(lived, dead.crashStreak());
        String why = "exited" + (code >= 0 ? " with code " + code : "") + " after " + human(lived);
        while (agent.awaitingRestart(dead)) {
            Duration delay = policy.delay(streak);
            events.event(dead.app(), "instance " + dead.id() + " " + why + "; restart #" + (dead.restarts() + 1)
                    + (delay.isZero() ? " now" : " in " + human(delay)));
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                return;
            }
            if (!agent.awaitingRestart(dead)) return;
            streak++;
            Instance fresh;
            try {
                fresh = agent.restart(dead, streak);
            } catch (DriverException e) {
                why = "could not be restarted: " + e.getMessage();
                continue;
            }
            HealthCheck.Result health = agent.awaitHealthy(fresh);
            if (health instanceof HealthCheck.Unhealthy sick) {
                agent.stop(fresh);
                why = "was restarted as " + fresh.id() + " but failed its health check: " + sick.reason();
                continue;
            }
            if (agent.replaceCrashed(dead, fresh)) {
                events.event(dead.app(), "instance " + dead.id() + " restarted as " + fresh.id() + " (restart #" + fresh.restarts() + ")");
                watch(fresh);
            } else {
                agent.stop(fresh); // a deploy replaced the app's instances meanwhile
            }
            return;
        }
    }

    private void liveness(Instance instance) {
        Manifest.Health h = instance.request().health();
        // A console line proves a start; once printed it says nothing about later: such an instance is watched by its exit alone,
        // as is one whose guest no HTTP or TCP check can reach.
        if (h.console() != null || instance.handle().guest().unreachable().isPresent()) return;
        int failures = 0;
        while (instance.handle().isAlive()) {
            try {
                Thread.sleep(LIVENESS_PERIOD);
            } catch (InterruptedException e) {
                return;
            }
            if (!instance.handle().isAlive() || !agent.isRouted(instance)) return;
            HealthCheck check = HealthCheck.of(h, instance.handle().guest(), instance.handle().state().logFile(), instance.consoleFrom());
            HealthCheck.Result result = check.await(h.tryTimeout(), instance.handle().exited());
            if (result instanceof HealthCheck.Unhealthy sick) {
                failures++;
                log.warn("instance {} failed its liveness check ({} of {}): {}", instance.id(), failures, LIVENESS_FAILURES, sick.reason());
                if (failures >= LIVENESS_FAILURES) {
                    events.event(instance.app(), "instance " + instance.id() + " failed its liveness check " + failures
                            + " times in a row (" + sick.reason() + "); stopping it to restart it");
                    instance.handle().stop(instance.request().stopGrace());
                    return;
                }
            } else {
                failures = 0;
            }
        }
    }

    public static String human(Duration d) {
        if (d.toMillis() < 1000) return d.toMillis() + " ms";
        if (d.toSeconds() < 120) return d.toSeconds() + " s";
        return d.toMinutes() + " min";
    }
}
