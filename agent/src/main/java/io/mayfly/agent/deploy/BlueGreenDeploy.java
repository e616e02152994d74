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
 * The default strategy: boot the new instances beside the old ones, wait until they are healthy, run the staged
 * test, switch the router to them in one step; the old instances then stand by through the liveness window (taking the
 * traffic back if the new ones fail in it) and are stopped once it has passed. Anything that fails before the switch
 * stops the new instances and leaves the old ones serving.
 */
public final class BlueGreenDeploy implements DeployStrategy {
    private final Agent agent;

    public BlueGreenDeploy(Agent agent) {
        this.agent = agent;
    }

    @Override
    public DeployOutcome run(StartRequest request, int count, Duration drainTimeout, StagedTest test, Progress progress)
            throws InterruptedException {
        Phases phases = new Phases();
        progress.say("-----> Release v" + request.release() + ": booting " + count + " " + request.driver()
                + " instance" + (count == 1 ? "" : "s"));
        Booted booted = DeployStrategy.boot(agent, request, count, true, phases, progress);
        if (booted instanceof Booted.Failed(String reason)) {
            return new DeployOutcome.Failed(reason, phases.asMap());
        }
        List<Instance> fresh = ((Booted.All) booted).instances();
        String testFailure = test == StagedTest.NONE
                ? null
                : phases.time(
                        "test",
                        () -> test.run("http://127.0.0.1:" + fresh.get(0).port()));
        if (testFailure != null) {
            fresh.forEach(agent::stop);
            return new DeployOutcome.Failed("test failed: " + testFailure, phases.asMap());
        }
        List<Instance> old;
        try {
            old = phases.time("switch", () -> agent.switchTo(request.app(), fresh));
        } catch (Agent.NotRunning e) {
            fresh.forEach(agent::stop);
            return new DeployOutcome.Failed(e.getMessage(), phases.asMap());
        }
        progress.say("       switched traffic to " + DeployStrategy.ids(fresh));
        return DeployStrategy.afterSwitch(agent, request, old, fresh, drainTimeout, phases, progress);
    }
}
