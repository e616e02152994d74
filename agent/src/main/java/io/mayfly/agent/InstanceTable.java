package io.mayfly.agent;

import io.mayfly.agent.router.Backend;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The instances this agent runs, by id, and which of them are being stopped on purpose. Stopping goes through the
 * table so that an instance leaves it before it leaves {@code stopping}: its exit is never taken for a crash.
 */
final class InstanceTable {
    /** How long an instance gets between SIGTERM (or its driver's equivalent) and being killed. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);

    private final Map<String, Instance> instances = new ConcurrentHashMap<>();
    /** Instances being stopped on purpose: their exit is not a crash. */
    private final Set<String> stopping = ConcurrentHashMap.newKeySet();

    private final InstanceDirs dirs;

    InstanceTable(InstanceDirs dirs) {
        this.dirs = dirs;
    }

    void add(Instance instance) {
        instances.put(instance.id(), instance);
    }

    Instance get(String id) {
        return instances.get(id);
    }

    void remove(String id) {
        instances.remove(id);
    }

    /** The ids of the instances in the table; a live view, so a prune running meanwhile spares one just started. */
    Set<String> ids() {
        return instances.keySet();
    }

    List<Instance> all() {
        return List.copyOf(instances.values());
    }

    List<Instance> of(String app) {
        return instances.values().stream().filter(i -> i.app().equals(app)).toList();
    }

    /** The running instances behind these backends (the router's for an app), in the same order. */
    List<Instance> behind(List<Backend> backends) {
        return backends.stream()
                .map(b -> instances.get(b.instanceId()))
                .filter(Objects::nonNull)
                .filter(i -> i.handle().isAlive())
                .toList();
    }

    /** Whether the instance is being stopped, or was stopped, on purpose: then its exit is no crash. */
    boolean stoppedOnPurpose(Instance instance) {
        return stopping.contains(instance.id()) || !instances.containsKey(instance.id());
    }

    /** Lets in-flight requests finish (bounded by drainTimeout), then stops the instance. */
    void retire(Instance instance, Duration drainTimeout) {
        instance.backend().drained(drainTimeout).join();
        stop(instance);
    }

    void stop(Instance instance) {
        stopping.add(instance.id());
        try {
            instance.handle().stop(STOP_GRACE);
        } finally {
            // Gone from the instances before it leaves stopping: its exit, which a handle may see only after stop
            // returned
            // (a Xen domain, an adopted process, both polled), is never taken for a crash.
            instances.remove(instance.id());
            stopping.remove(instance.id());
            dirs.deleteState(instance.id());
            dirs.pruneStopped(instance.app(), instances.keySet());
        }
    }
}
