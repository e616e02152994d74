package io.mayfly.server.dashboard;

import io.mayfly.wire.AgentViews;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The recent request rate and latency of each app, for the dashboard's chart: every {@link #STEP} the totals the
 * agents' routers last reported (the embedded agent's too: it runs in a process of its own) are read, and the
 * difference since the last reading becomes one point (requests per second, mean latency in ms), summed over the routers serving the app.
 * A total that went down (its agent restarted) counts from zero. Keeps the last {@link #POINTS} points (10 minutes)
 * per app, in memory.
 */
public final class RequestHistory implements AutoCloseable {
    static final Duration STEP = Duration.ofSeconds(5);
    static final int POINTS = 120;

    /** One step: when it ended, requests per second over it, and their mean latency (0 when there were none). */
    public record Point(Instant at, double perSecond, double meanMs) {}

    private record Reading(long count, double totalMs) {}

    private final Supplier<Map<String, List<AgentViews.RequestTotals>>> reported;
    /** The last reading of each router's totals for each app, keyed "app@agent". */
    private final Map<String, Reading> last = new ConcurrentHashMap<>();

    private final Map<String, ArrayDeque<Point>> points = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("request-history").factory());

    /** @param reported the totals of the agents' routers, by agent ({@link io.mayfly.server.hosts.RemoteHosts#requestTotals}) */
    public RequestHistory(Supplier<Map<String, List<AgentViews.RequestTotals>>> reported) {
        this.reported = reported;
    }

    public RequestHistory start() {
        timer.scheduleAtFixedRate(this::sample, STEP.toMillis(), STEP.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** Reads every agent's reported totals once; public for tests, which cannot wait for the schedule. */
    public void sample() {
        Instant now = Instant.now();
        Map<String, double[]> steps = new java.util.TreeMap<>(); // app -> {requests, total ms}
        reported.get()
                .forEach((agent, totals) ->
                        totals.forEach(r -> step(r.app(), agent, new Reading(r.count(), r.totalMs()), steps)));
        double seconds = STEP.toMillis() / 1000.0;
        steps.forEach((app, d) -> {
            Point p = new Point(now, d[0] / seconds, d[0] <= 0 ? 0 : d[1] / d[0]);
            ArrayDeque<Point> q = points.computeIfAbsent(app, a -> new ArrayDeque<>());
            synchronized (q) {
                q.addLast(p);
                while (q.size() > POINTS) q.removeFirst();
            }
        });
    }

    /** Adds one router's difference since its last reading to the app's step; a first reading only sets the baseline. */
    private void step(String app, String router, Reading now, Map<String, double[]> steps) {
        Reading before = last.put(app + "@" + router, now);
        if (before == null) return;
        boolean restarted = now.count() < before.count();
        double[] d = steps.computeIfAbsent(app, a -> new double[2]);
        d[0] += restarted ? now.count() : now.count() - before.count();
        d[1] += restarted ? now.totalMs() : now.totalMs() - before.totalMs();
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
