package io.mayfly.agent.remote;

import io.mayfly.agent.Agent;
import io.mayfly.agent.Instance;
import io.mayfly.wire.AgentViews;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The converging thread: whenever the desired state asks for other work, one pass brings this host to it (each
 * assignment by {@link AssignmentRunner}, every app no longer assigned drained and stopped); while nothing changes,
 * the artifact cache is pruned.
 */
final class ConvergeLoop implements Runnable {
    private final Agent agent;
    private final LatestDesired latest;
    private final AssignmentRunner runner;
    private final CachePruning pruning;
    private final Consumer<String> log;

    ConvergeLoop(
            Agent agent, LatestDesired latest, AssignmentRunner runner, CachePruning pruning, Consumer<String> log) {
        this.agent = agent;
        this.latest = latest;
        this.runner = runner;
        this.pruning = pruning;
        this.log = log;
    }

    @Override
    public void run() {
        AgentViews.DesiredState done = null;
        while (!Thread.currentThread().isInterrupted()) {
            AgentViews.DesiredState target = latest.get();
            try {
                if (target != null && LatestDesired.changes(done, target)) {
                    apply(target);
                    done = target;
                    continue; // something may have arrived meanwhile
                }
                latest.awaitNewer(target);
                if (done != null)
                    pruning.prune(done); // on this thread, the only one that fetches: no download is pulled away
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.accept("converging failed: " + e + "; trying again");
                sleep1s();
            }
        }
    }

    /** One pass: every assigned release running (health-gated), every other app drained and stopped. */
    void apply(AgentViews.DesiredState state) throws InterruptedException {
        Set<String> assigned = new HashSet<>();
        for (AgentViews.Assignment a : state.assignments()) {
            assigned.add(a.app());
            agent.declare(a.app());
            runner.ensure(a);
        }
        List<String> declared = state.declared() == null ? List.of() : state.declared();
        declared.forEach(agent::declare);
        Set<String> gone = new TreeSet<>();
        for (Instance instance : agent.instances()) {
            if (!assigned.contains(instance.app())) gone.add(instance.app());
        }
        // An app the router knows that is neither assigned nor declared any more (destroyed before its first release).
        for (String app : agent.routedApps()) {
            if (!assigned.contains(app) && !declared.contains(app)) gone.add(app);
        }
        for (String app : gone) {
            log.accept(app + " is no longer assigned here; draining and stopping its instances");
            List<Instance> old = agent.instances(app);
            agent.switchTo(app, List.of());
            old.forEach(i -> agent.retire(i, Duration.ofSeconds(10)));
            agent.keepRunning(app); // no idle stop, no held requests for an app that is gone
            agent.removeApp(app);
            runner.forget(app);
        }
    }

    private static void sleep1s() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
