package io.mayfly.server.deploy;

import io.mayfly.agent.Agent;
import io.mayfly.agent.Instance;
import io.mayfly.agent.StartRequest;
import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.health.HealthCheck;
import io.mayfly.server.release.Phases;
import io.mayfly.server.release.Progress;
import io.mayfly.wire.manifest.Manifest;

import java.util.List;

/**
 * The default strategy: boot the new instance beside the old one, wait until it is healthy, run the staged
 * test, switch the router to it in one step, then let the old instance finish its requests and stop it.
 * Anything that fails before the switch stops the new instance and leaves the old one serving.
 */
public final class BlueGreenDeploy {
    private final Agent agent;

    public BlueGreenDeploy(Agent agent) { this.agent = agent; }

    public DeployOutcome run(StartRequest request, Manifest manifest, StagedTest test, Progress progress) throws InterruptedException {
        Phases phases = new Phases();
        String app = request.app();
        progress.say("-----> Release v" + request.release() + ": booting " + request.driver() + " instance");
        Instance fresh;
        try {
            fresh = phases.time("boot", () -> agent.start(request));
        } catch (DriverException e) {
            return new DeployOutcome.Failed("could not boot: " + e.getMessage(), phases.asMap());
        }

        HealthCheck.Result health = phases.time("health", () -> agent.awaitHealthy(fresh));
        if (health instanceof HealthCheck.Unhealthy sick) {
            agent.stop(fresh);
            return new DeployOutcome.Failed("health check failed: " + sick.reason(), phases.asMap());
        }
        progress.say("       healthy in " + Phases.human(phases.get("health")) + " (" + fresh.id() + " on port " + fresh.port() + ")");

        String testFailure = test == StagedTest.NONE ? null : phases.time("test", () -> test.run("http://127.0.0.1:" + fresh.port()));
        if (testFailure != null) {
            agent.stop(fresh);
            return new DeployOutcome.Failed("test failed: " + testFailure, phases.asMap());
        }

        List<Instance> old = phases.time("switch", () -> agent.switchTo(app, List.of(fresh)));
        progress.say("       switched traffic to " + fresh.id());

        phases.time("drain", () -> {
            old.forEach(i -> agent.retire(i, manifest.run().drainTimeout()));
            return null;
        });
        if (!old.isEmpty()) {
            progress.say("       drained and stopped " + String.join(", ", old.stream().map(Instance::id).toList()));
        }
        return new DeployOutcome.Live(phases.asMap());
    }
}
