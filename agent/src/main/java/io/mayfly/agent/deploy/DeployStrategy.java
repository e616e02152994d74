package io.mayfly.agent.deploy;

import io.mayfly.agent.Agent;
import io.mayfly.agent.Instance;
import io.mayfly.agent.StartRequest;
import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.health.HealthCheck;
import io.mayfly.wire.Phases;
import io.mayfly.wire.Progress;
import io.mayfly.wire.StagedTest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** How traffic moves from a release's instances to the next release's: {@code run.strategy} in mayfly.toml. */
public sealed interface DeployStrategy permits BlueGreenDeploy, RollingDeploy, ImmediateDeploy {

    /** Starts {@code count} instances of the request's release and moves the app's traffic to them. */
    DeployOutcome run(StartRequest request, int count, Duration drainTimeout, StagedTest test, Progress progress)
            throws InterruptedException;

    static DeployStrategy named(String name, Agent agent) {
        return switch (name) {
            case "rolling" -> new RollingDeploy(agent);
            case "immediate" -> new ImmediateDeploy(agent);
            default -> new BlueGreenDeploy(agent);
        };
    }

    /** The outcome of booting instances: all of them, or why not (those already booted are stopped again). */
    sealed interface Booted {
        record All(List<Instance> instances) implements Booted {}

        record Failed(String reason) implements Booted {}
    }

    /**
     * {@code ps:scale} of the running release: boots the missing instances (health-gated) and routes to them beside
     * the others, or drains and stops the extra ones. Returns why it could not, or empty; on failure nothing changed.
     */
    static java.util.Optional<String> rescale(
            Agent agent, StartRequest request, int instances, Duration drainTimeout, Progress progress)
            throws InterruptedException {
        String app = request.app();
        List<Instance> current = agent.routed(app);
        if (instances > current.size()) {
            Booted booted = boot(agent, request, instances - current.size(), true, new Phases(), progress);
            if (booted instanceof Booted.Failed(String reason)) return java.util.Optional.of(reason);
            List<Instance> all = new ArrayList<>(current);
            all.addAll(((Booted.All) booted).instances());
            try {
                agent.switchTo(app, all);
            } catch (Agent.NotRunning e) {
                ((Booted.All) booted).instances().forEach(agent::stop);
                return java.util.Optional.of(e.getMessage());
            }
        } else if (instances < current.size()) {
            List<Instance> removed = agent.switchTo(app, current.subList(0, instances));
            removed.forEach(i -> agent.retire(i, drainTimeout));
        }
        return java.util.Optional.empty();
    }

    /**
     * Boots {@code count} instances one after another, each health-checked when {@code healthGate} is set; a guest
     * slow to pass its check has what it prints shown meanwhile ({@link ConsoleFollower}).
     */
    static Booted boot(
            Agent agent, StartRequest request, int count, boolean healthGate, Phases phases, Progress progress)
            throws InterruptedException {
        List<Instance> booted = new ArrayList<>();
        for (int n = 1; n <= count; n++) {
            String which = count == 1 ? "" : " (instance " + n + " of " + count + ")";
            Instance fresh;
            try {
                fresh = phases.time("boot", () -> agent.start(request));
            } catch (DriverException e) {
                booted.forEach(agent::stop);
                return new Booted.Failed("could not boot" + which + ": " + e.getMessage());
            }
            booted.add(fresh);
            if (!healthGate) continue;
            HealthCheck.Result health = phases.time("health", () -> {
                try (ConsoleFollower console = ConsoleFollower.follow(fresh, progress)) {
                    return agent.awaitHealthy(fresh);
                }
            });
            if (health instanceof HealthCheck.Unhealthy sick) {
                booted.forEach(agent::stop);
                return new Booted.Failed("health check failed" + which + ": " + sick.reason());
            }
            progress.say("       healthy in "
                    + Phases.human(((HealthCheck.Healthy) health).took().toMillis()) + which + " (" + fresh.id()
                    + " on port " + fresh.port() + ")");
        }
        return new Booted.All(booted);
    }

    /**
     * After the switch to {@code fresh}: with a liveness window ({@code [health] liveness}), the {@code old} instances
     * stand by through it; without one, they finish their requests and are stopped now.
     */
    static DeployOutcome afterSwitch(
            Agent agent,
            StartRequest request,
            List<Instance> old,
            List<Instance> fresh,
            Duration drainTimeout,
            Phases phases,
            Progress progress) {
        Duration window = request.health().liveness();
        if (!window.isZero() && !old.isEmpty()) {
            int previous = old.getFirst().release();
            io.mayfly.agent.Standby standby =
                    agent.standBy(request.app(), request.release(), previous, old, fresh, window);
            progress.say("       v" + previous + " stands by for " + Phases.human(window.toMillis()) + ": if v"
                    + request.release() + " fails meanwhile, traffic goes back to it");
            return new DeployOutcome.Live(phases.asMap(), standby);
        }
        phases.time("drain", () -> {
            old.forEach(i -> agent.retire(i, drainTimeout));
            return null;
        });
        if (!old.isEmpty()) progress.say("       drained and stopped " + ids(old));
        return new DeployOutcome.Live(phases.asMap());
    }

    static String ids(List<Instance> instances) {
        return String.join(", ", instances.stream().map(Instance::id).toList());
    }
}
