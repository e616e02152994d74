package io.mayfly.server.dashboard;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.mayfly.agent.router.Router;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The recent request rate and latency of each app, for the dashboard's chart: every {@link #STEP} the router's
 * Micrometer timers are read and the difference since the last reading becomes one point (requests per second, mean
 * latency in ms). Keeps the last {@link #POINTS} points (10 minutes) per app, in memory.
 */
public final class RequestHistory implements AutoCloseable {
    static final Duration STEP = Duration.ofSeconds(5);
    static final int POINTS = 120;

    /** One step: when it ended, requests per second over it, and their mean latency (0 when there were none). */
    public record Point(Instant at, double perSecond, double meanMs) {}

    private record Reading(long count, double totalMs) {}

    private final MeterRegistry registry;
    private final Map<String, Reading> last = new ConcurrentHashMap<>();
    private final Map<String, ArrayDeque<Point>> points = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("request-history").factory());

    public RequestHistory(MeterRegistry registry) {
        this.registry = registry;
    }

    public RequestHistory start() {
        timer.scheduleAtFixedRate(this::sample, STEP.toMillis(), STEP.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** Reads every app's timer once; public for tests, which cannot wait for the schedule. */
    public void sample() {
        Instant now = Instant.now();
        for (Timer t : registry.find(Router.REQUESTS).timers()) {
            String app = t.getId().getTag("app");
            if (app == null) continue;
            Reading r = new Reading(t.count(), t.totalTime(TimeUnit.MILLISECONDS));
            Reading before = last.put(app, r);
            if (before == null) continue;
            long n = r.count() - before.count();
            double seconds = STEP.toMillis() / 1000.0;
            Point p = new Point(now, n / seconds, n <= 0 ? 0 : (r.totalMs() - before.totalMs()) / n);
            ArrayDeque<Point> q = points.computeIfAbsent(app, a -> new ArrayDeque<>());
            synchronized (q) {
                q.addLast(p);
                while (q.size() > POINTS) q.removeFirst();
            }
        }
    }

    public List<Point> of(String app) {
        ArrayDeque<Point> q = points.get(app);
        if (q == null) return List.of();
        synchronized (q) {
            return List.copyOf(q);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
