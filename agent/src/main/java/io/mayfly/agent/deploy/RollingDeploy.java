package io.mayfly.agent.deploy;

import io.mayfly.agent.Agent;
import io.mayfly.agent.Instance;
import io.mayfly.agent.StartRequest;
import io.mayfly.agent.reconcile.Rollout;
import io.mayfly.wire.Phases;
import io.mayfly.wire.Progress;
import io.mayfly.wire.StagedTest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One instance at a time: boot a new one, wait until it is healthy, route to it in place of one old instance,
 * and so on. The old instances stay running, unrouted, until the last step succeeded, so that a failing step
 * restores the previous routing at once (the failing instance is stopped, the rest keep serving).
 */
public final class RollingDeploy implements DeployStrategy {
    private final Agent agent;

    public RollingDeploy(Agent agent) {
        this.agent = agent;
    }

    @Override
    public DeployOutcome run(StartRequest request, int count, Duration drainTimeout, StagedTest test, Progress progress)
            throws InterruptedException {
        Phases phases = new Phases();
        String app = request.app();
        List<Instance> old = agent.routed(app);
        List<Instance> fresh = new ArrayList<>();
        progress.say("-----> Release v" + request.release() + ": rolling " + count + " " + request.driver()
                + " instance" + (count == 1 ? "" : "s") + " over " + old.size() + ", one at a time");
        for (int step = 0; step < count; step++) {
            Booted booted = DeployStrategy.boot(agent, request, 1, true, phases, progress);
            String failure = booted instanceof Booted.Failed(String reason)
                    ? "step " + (step + 1) + " of " + count + ": " + reason
                    : null;
            Instance next = booted instanceof Booted.All(List<Instance> one) ? one.get(0) : null;
            if (failure == null && step == 0 && test != StagedTest.NONE) {
                String testFailure = phases.time("test", () -> test.run("http://127.0.0.1:" + next.port()));
                if (testFailure != null) {
                    agent.stop(next);
                    failure = "test failed: " + testFailure;
                }
            }
            if (failure != null) {
                agent.switchTo(app, old);
                fresh.forEach(agent::stop);
                return new DeployOutcome.Failed(
                        failure + "; restored the " + old.size() + " previous instance(s)", phases.asMap());
            }
            fresh.add(next);
            List<Instance> routed = Rollout.routedAfter(step, fresh, old);
            try {
                phases.time("switch", () -> agent.switchTo(app, routed));
            } catch (Agent.NotRunning e) {
                agent.switchTo(app, old);
                fresh.forEach(agent::stop);
                return new DeployOutcome.Failed(
                        "step " + (step + 1) + " of " + count + ": " + e.getMessage() + "; restored the " + old.size()
                                + " previous instance(s)",
                        phases.asMap());
            }
            Instance replaced = Rollout.replacedAt(step, old);
            progress.say("       step " + (step + 1) + " of " + count + ": routed to " + next.id()
                    + (replaced != null ? " in place of " + replaced.id() : ""));
        }
        return DeployStrategy.afterSwitch(agent, request, old, fresh, drainTimeout, phases, progress);
    }
}
