package io.mayfly.agent;

import io.mayfly.agent.health.HealthCheck;
import io.mayfly.wire.manifest.Manifest;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The apps in their liveness window ({@link Standby}): the previous release stands by while the new one must stay up.
 * Probes the new instances through the window and moves the traffic back at the first sign that they are down.
 */
final class LivenessWindows {
    /** Apps in their liveness window: the previous release stands by while the new one must stay up. */
    private final Map<String, Standby> standbys = new ConcurrentHashMap<>();

    private final Routes routes;
    private final InstanceTable table;
    private final CrashedSlots slots;
    /** Has the supervisor watch an instance that serves again (it is watched once only). */
    private final Consumer<Instance> supervise;

    private final AgentEvents events;

    LivenessWindows(
            Routes routes, InstanceTable table, CrashedSlots slots, Consumer<Instance> supervise, AgentEvents events) {
        this.routes = routes;
        this.table = table;
        this.slots = slots;
        this.supervise = supervise;
        this.events = events;
    }

    /** Opens the app's window; the caller has already switched the traffic to {@code fresh}. See {@link Agent#standBy}. */
    Standby open(
            String app,
            int release,
            int previousRelease,
            List<Instance> previous,
            List<Instance> fresh,
            Duration window) {
        Standby standby = Standby.of(app, release, previousRelease, previous, fresh, window);
        standbys.put(app, standby);
        Thread.ofVirtual().name("liveness-window-" + app).start(() -> watch(standby));
        return standby;
    }

    Optional<Standby> of(String app) {
        return Optional.ofNullable(standbys.get(app));
    }

    /** Ends the app's window, if it is in one, because something newer came (a deploy, its removal); returns it, or null. */
    Standby supersede(String app) {
        Standby standing = standbys.remove(app);
        if (standing != null) standing.ending().complete(new Standby.Ending.Superseded());
        return standing;
    }

    /** Probes the fresh instances through the window; ends it when it has passed. Exits are seen by the supervisor. */
    private void watch(Standby standby) {
        Manifest.Health h = standby.fresh().getFirst().request().health();
        Duration every = h.interval().compareTo(Duration.ofMillis(250)) < 0
                ? Duration.ofMillis(250)
                : h.interval().compareTo(Duration.ofSeconds(1)) > 0 ? Duration.ofSeconds(1) : h.interval();
        Map<String, Integer> failures = new HashMap<>();
        while (!standby.ended() && Instant.now().isBefore(standby.until())) {
            try {
                standby.ending()
                        .get(
                                Math.min(
                                        every.toMillis(),
                                        Math.max(
                                                1,
                                                Duration.between(Instant.now(), standby.until())
                                                        .toMillis())),
                                TimeUnit.MILLISECONDS);
                return; // ended by a rollback or a later deploy
            } catch (TimeoutException stillWatching) {
                // time for the next probe
            } catch (InterruptedException e) {
                return;
            } catch (ExecutionException e) {
                return;
            }
            if (h.console() != null) continue; // a console line proves a start only: exits alone are watched
            for (Instance i : standby.fresh()) {
                if (!i.handle().isAlive()) continue; // the supervisor reports it
                if (i.handle().guest().unreachable().isPresent()) continue; // nothing to probe: its exit is watched
                HealthCheck.Result r = InstanceHealth.probe(i, h);
                if (r instanceof HealthCheck.Unhealthy sick) {
                    int n = failures.merge(i.id(), 1, Integer::sum);
                    if (n >= InstanceHealth.LIVENESS_FAILURES) {
                        rollBack(
                                standby,
                                "instance " + i.id() + " failed its health check " + n + " times in a row: "
                                        + sick.reason());
                        return;
                    }
                } else {
                    failures.remove(i.id());
                }
            }
        }
        synchronized (routes) {
            if (standbys.get(standby.app()) != standby || standby.ended()) return;
            standbys.remove(standby.app());
            standby.ending().complete(new Standby.Ending.Held());
        }
        standby.previous().forEach(table::stop); // drained: they had no new request for the whole window
    }

    /**
     * Moves the app's traffic back to the instances standing by, if {@code dead} is a fresh instance of a liveness
     * window: the supervisor calls it first when an instance exits. Returns whether it did.
     */
    boolean rollBackIfWatched(Instance dead, String why) {
        Standby standby = standbys.get(dead.app());
        if (standby == null || !standby.fresh().contains(dead) || table.stoppedOnPurpose(dead)) return false;
        List<String> last = InstanceHealth.lastLines(dead);
        return rollBack(
                standby,
                "instance " + dead.id() + " " + why
                        + (last.isEmpty() ? "" : "; its last lines: " + String.join(" | ", last)));
    }

    private boolean rollBack(Standby standby, String reason) {
        long began = System.nanoTime();
        List<Instance> serving;
        synchronized (routes) {
            if (standbys.get(standby.app()) != standby || standby.ended()) return false;
            standbys.remove(standby.app());
            serving = standby.previous().stream()
                    .filter(i -> i.handle().isAlive())
                    .toList();
            routes.router()
                    .switchTo(
                            standby.app(),
                            serving.stream().map(Instance::backend).toList());
            routes.save();
            serving.forEach(supervise);
            standby.fresh().forEach(slots::unmarkWatched);
        }
        Duration switchBack = Duration.ofNanos(System.nanoTime() - began);
        Duration afterLive = Duration.between(standby.since(), Instant.now());
        standby.ending().complete(new Standby.Ending.RolledBack(reason, afterLive, switchBack, serving.size()));
        events.event(
                standby.app(),
                "v" + standby.release() + " failed " + AgentEvents.human(afterLive) + " after going live: " + reason
                        + (serving.isEmpty()
                                ? "; nothing of v" + standby.previousRelease() + " stands by to take the traffic back"
                                : "; traffic is back on v" + standby.previousRelease() + " (" + serving.size()
                                        + " instance" + (serving.size() == 1 ? "" : "s") + ", switched in "
                                        + switchBack.toMillis() + " ms)"));
        standby.fresh().forEach(i -> Thread.ofVirtual().start(() -> table.stop(i)));
        return true;
    }
}
