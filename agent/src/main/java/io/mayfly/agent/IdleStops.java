package io.mayfly.agent;

import io.mayfly.agent.router.Router;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Scale to zero (Jitsu's "summon on demand"): stops the instances of the apps that scale to zero once they sat idle
 * long enough, and has the router hold a request that finds none while one boots.
 */
final class IdleStops {
    /** Apps that scale to zero, with how long an instance may sit idle before it is stopped. */
    private final Map<String, Duration> idleStop = new ConcurrentHashMap<>();

    private final Map<String, CompletableFuture<?>> booting = new ConcurrentHashMap<>();
    private final Routes routes;
    private final InstanceTable table;
    private final AgentEvents events;
    private volatile Thread idleReaper;

    IdleStops(Routes routes, InstanceTable table, AgentEvents events) {
        this.routes = routes;
        this.table = table;
        this.events = events;
    }

    /** Whether an instance that served nothing for {@code idleFor} has sat idle long enough to be stopped. */
    static boolean idle(Duration idleFor, Duration limit) {
        return idleFor.compareTo(limit) >= 0;
    }

    /** See {@link Agent#scaleToZero}. */
    void scaleToZero(String app, Duration idle, Duration holdTimeout, Supplier<CompletableFuture<?>> boot) {
        idleStop.put(app, idle);
        routes.router()
                .holdWhileBooting(
                        app,
                        a -> booting.computeIfAbsent(a, x -> {
                            events.event(a, "a request arrived while nothing runs: booting an instance");
                            CompletableFuture<?> f = boot.get();
                            return f.whenComplete((ok, error) -> booting.remove(a));
                        }),
                        holdTimeout);
        startIdleReaper();
    }

    /** Ends scale to zero for the app: its instances keep running however idle. */
    void keepRunning(String app) {
        idleStop.remove(app);
        routes.router().holdWhileBooting(app, null, null);
    }

    private synchronized void startIdleReaper() {
        if (idleReaper != null) return;
        idleReaper = Thread.ofVirtual().name("idle-reaper").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    return;
                }
                idleStop.forEach(this::stopIdle);
            }
        });
    }

    private void stopIdle(String app, Duration idle) {
        Router router = routes.router();
        for (Instance i : table.behind(router.backends(app))) {
            Duration idleFor = i.backend().idleFor();
            if (!idle(idleFor, idle)) continue;
            synchronized (routes) {
                if (!routes.isRouted(i) || !idle(i.backend().idleFor(), idle)) continue;
                routes.leave(i);
            }
            events.event(
                    app, "instance " + i.id() + " idle for " + idleFor.toSeconds() + " s: stopping it (scale to zero)");
            table.retire(i, Duration.ofSeconds(30));
        }
    }

    /** Stops the reaper; the instances keep running. */
    void close() {
        Thread reaper = idleReaper;
        if (reaper != null) reaper.interrupt();
    }
}
