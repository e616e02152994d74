package io.mayfly.agent;

import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.health.HealthCheck;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A deploy done by an agent on its own (a remote agent, or one watching a registry): boot the new instances,
 * switch the app's route to them only once every one answers its health check, then drain and stop the old ones.
 * If any fails to boot or to become healthy, the new ones are stopped and the old ones go on serving.
 */
public final class HealthGatedSwitch {
    public sealed interface Outcome {
        Map<String, Long> phases();

        record Live(List<Instance> instances, Map<String, Long> phases) implements Outcome {}

        record Failed(String reason, Map<String, Long> phases) implements Outcome {}
    }

    private HealthGatedSwitch() {}

    public static Outcome run(Agent agent, StartRequest request, int count, Duration drainTimeout) {
        Map<String, Long> phases = new LinkedHashMap<>();
        List<Instance> fresh = new ArrayList<>();
        long began = System.nanoTime();
        try {
            for (int i = 0; i < count; i++) fresh.add(agent.start(request));
        } catch (DriverException e) {
            fresh.forEach(agent::stop);
            return new Outcome.Failed("could not boot v" + request.release() + ": " + e.getMessage(), phases);
        }
        phases.put("boot", since(began));
        began = System.nanoTime();
        for (Instance instance : fresh) {
            if (agent.awaitHealthy(instance) instanceof HealthCheck.Unhealthy sick) {
                phases.put("health", since(began));
                fresh.forEach(agent::stop);
                return new Outcome.Failed("v" + request.release() + " failed its health check: " + sick.reason()
                        + (agent.routed(request.app()).isEmpty() ? "" : "; the running instances keep serving"), phases);
            }
        }
        phases.put("health", since(began));
        began = System.nanoTime();
        List<Instance> old = agent.switchTo(request.app(), fresh);
        phases.put("switch", since(began));
        // Draining happens after the switch is reported: the new release already serves every new request.
        old.forEach(i -> Thread.ofVirtual().name("retire-" + i.id()).start(() -> agent.retire(i, drainTimeout)));
        return new Outcome.Live(fresh, phases);
    }

    private static long since(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }
}
