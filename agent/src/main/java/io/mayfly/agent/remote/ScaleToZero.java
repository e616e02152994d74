package io.mayfly.agent.remote;

import io.mayfly.agent.Agent;
import io.mayfly.agent.StartRequest;
import io.mayfly.agent.deploy.DeployOutcome;
import io.mayfly.agent.deploy.DeployStrategy;
import io.mayfly.wire.AgentViews;
import io.mayfly.wire.Phases;
import io.mayfly.wire.Progress;
import io.mayfly.wire.StagedTest;
import io.mayfly.wire.manifest.Manifest;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Scale to zero on this host ({@code run.instances = 0}): the app's instance stops when idle ({@code run.idle_stop},
 * 5 min by default) and the router holds the next request while this agent boots one, as the server's own agent
 * does. It remembers the assignment each sleeping app was set up for, since its instance may be stopped.
 */
final class ScaleToZero {
    private static final Duration DEFAULT_IDLE_STOP = Duration.ofMinutes(5);

    private final Agent agent;
    /** The assignment of each app scaled to zero here, as it was set up (its instance may be stopped). */
    private final Map<String, AgentViews.Assignment> sleeping = new ConcurrentHashMap<>();

    ScaleToZero(Agent agent) {
        this.agent = agent;
    }

    /** Whether {@code app} is scaled to zero here. */
    boolean asleep(String app) {
        return sleeping.containsKey(app);
    }

    /** Whether {@code a}'s app sleeps as {@code a} asks, whether or not a deploy waits on it. */
    boolean asleepAsAssigned(AgentViews.Assignment a) {
        return steady(a).equals(sleeping.get(a.app()));
    }

    /**
     * Sets up what {@code a} asks of its running release: with instances, it keeps running (an idle stop set up
     * before ends); with none, it stops when idle and {@code request} boots it again on demand.
     */
    void follow(AgentViews.Assignment a, Manifest manifest, StartRequest request) {
        if (a.instances() > 0) {
            sleeping.remove(a.app());
            agent.keepRunning(a.app());
            return;
        }
        Duration idle = manifest.run().idleStop() != null ? manifest.run().idleStop() : DEFAULT_IDLE_STOP;
        sleeping.put(a.app(), steady(a));
        agent.scaleToZero(
                a.app(),
                idle,
                manifest.health().timeout().plusSeconds(5),
                () -> CompletableFuture.runAsync(
                        () -> {
                            try {
                                DeployOutcome booted = DeployStrategy.named(
                                                manifest.run().strategy(), agent)
                                        .run(request, 1, manifest.run().drainTimeout(), StagedTest.NONE, Progress.NONE);
                                if (booted instanceof DeployOutcome.Failed f) {
                                    agent.events()
                                            .event(
                                                    a.app(),
                                                    "could not boot v" + a.release() + " on demand: " + f.reason());
                                    throw new IllegalStateException(f.reason());
                                }
                                agent.events()
                                        .event(
                                                a.app(),
                                                "booted v" + a.release() + " on demand in "
                                                        + Phases.human(booted.phases().values().stream()
                                                                .mapToLong(Long::longValue)
                                                                .sum()));
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                                throw new IllegalStateException("interrupted while booting " + a.app(), e);
                            }
                        },
                        task -> Thread.ofVirtual().name("wake-" + a.app()).start(task)));
    }

    /** The app is gone from here: nothing of its sleep is kept. */
    void forget(String app) {
        sleeping.remove(app);
    }

    /** The assignment as it stands when no deploy waits on it: what a sleeping app is compared with. */
    static AgentViews.Assignment steady(AgentViews.Assignment a) {
        return new AgentViews.Assignment(
                a.app(),
                a.release(),
                a.manifest(),
                a.args(),
                a.env(),
                a.artifacts(),
                a.instances(),
                false,
                false,
                a.spec());
    }
}
