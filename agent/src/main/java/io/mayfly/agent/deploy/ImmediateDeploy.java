package io.mayfly.agent.deploy;

import io.mayfly.agent.Agent;
import io.mayfly.agent.Instance;
import io.mayfly.agent.StartRequest;
import io.mayfly.wire.Phases;
import io.mayfly.wire.Progress;
import io.mayfly.wire.StagedTest;
import java.time.Duration;
import java.util.List;

/**
 * No health gate: start the new instances, route to them at once and stop the old ones without draining. Requests
 * can fail while the new instances come up; it is for apps that cannot answer a health check, and says so.
 */
public final class ImmediateDeploy implements DeployStrategy {
    private final Agent agent;

    public ImmediateDeploy(Agent agent) {
        this.agent = agent;
    }

    @Override
    public DeployOutcome run(StartRequest request, int count, Duration drainTimeout, StagedTest test, Progress progress)
            throws InterruptedException {
        Phases phases = new Phases();
        progress.say("-----> Release v" + request.release() + ": immediate deploy of " + count + " " + request.driver()
                + " instance" + (count == 1 ? "" : "s") + " (no health check: requests may fail while they start)");
        Booted booted = DeployStrategy.boot(agent, request, count, false, phases, progress);
        if (booted instanceof Booted.Failed(String reason)) {
            return new DeployOutcome.Failed(reason, phases.asMap());
        }
        List<Instance> fresh = ((Booted.All) booted).instances();
        List<Instance> old;
        try {
            old = phases.time("switch", () -> agent.switchTo(request.app(), fresh));
        } catch (Agent.NotRunning e) {
            fresh.forEach(agent::stop);
            return new DeployOutcome.Failed(e.getMessage(), phases.asMap());
        }
        progress.say("       switched traffic to " + DeployStrategy.ids(fresh));
        phases.time("drain", () -> {
            old.forEach(agent::stop);
            return null;
        });
        // Nothing stands by, but the window is still watched: a failure in it has the previous release booted again.
        Duration window = request.health().liveness();
        if (window.isZero() || old.isEmpty()) return new DeployOutcome.Live(phases.asMap());
        return new DeployOutcome.Live(
                phases.asMap(),
                agent.standBy(request.app(), request.release(), old.getFirst().release(), List.of(), fresh, window));
    }
}
