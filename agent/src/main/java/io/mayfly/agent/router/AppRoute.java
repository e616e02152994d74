package io.mayfly.agent.router;

import io.micrometer.core.instrument.Timer;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** The backends one app is served by right now, the choice of one of them per request, and the app's limits. */
final class AppRoute {
    private static final long REPORT_WINDOW_NANOS = 1_000_000_000L;

    final String app;
    private volatile List<Backend> backends = List.of();
    private volatile boolean removed;
    private final AtomicInteger nextTie = new AtomicInteger();
    /** Set for an app that scales to zero: requests that find no backend are held while it boots. */
    volatile Waker waker;

    volatile long holdTimeoutNanos;
    private final AtomicInteger held = new AtomicInteger();

    /** How long its clients and instances are waited for (every component set); read by the event loops on each request. */
    volatile RouteLimits limits;
    /** The app's log hears of its instances' timeouts at most once a second. */
    final EventThrottle timeouts = new EventThrottle(REPORT_WINDOW_NANOS);

    /** Every proxied request of this app, timed from its head to its last response byte (Micrometer; null: not measured). */
    final Timer requests;

    AppRoute(String app, Timer requests, RouteLimits limits) {
        this.app = app;
        this.requests = requests;
        this.limits = limits;
    }

    List<Backend> backends() {
        return backends;
    }

    List<Backend> replace(List<Backend> next) {
        List<Backend> previous = backends;
        backends = next;
        return previous;
    }

    List<Backend> remove() {
        removed = true;
        return replace(List.of());
    }

    /** Counts one more held request, unless {@code max} are held already. */
    boolean tryHold(int max) {
        while (true) {
            int now = held.get();
            if (now >= max) return false;
            if (held.compareAndSet(now, now + 1)) return true;
        }
    }

    void releaseHold() {
        held.decrementAndGet();
    }

    boolean isRemoved() {
        return removed;
    }

    /**
     * Picks the backend with the fewest outstanding requests (ties in turn) and counts the request
     * on it; null when the app has no backend. The list is read again after counting so that a
     * caller who switched and then waits for the old backends to drain either sees this request in
     * their count or this request sees the new list: no request reaches a backend after its drain.
     */
    Backend acquire() {
        while (true) {
            List<Backend> current = backends;
            Backend chosen = fewestInFlight(current);
            if (chosen == null) {
                return null;
            }
            chosen.acquire();
            if (backends == current) {
                return chosen;
            }
            chosen.release();
        }
    }

    /**
     * As {@link #acquire}, passing over {@code refused} (a backend that just refused a connection) unless it is the only
     * one; null when the app has no backend. Off the hot path: only a refused connection comes here.
     */
    Backend acquireExcept(Backend refused) {
        while (true) {
            List<Backend> all = backends;
            List<Backend> current = all.size() > 1 && all.contains(refused)
                    ? all.stream().filter(b -> b != refused).toList()
                    : all;
            Backend chosen = fewestInFlight(current);
            if (chosen == null) {
                return null;
            }
            chosen.acquire();
            if (backends == all) {
                return chosen;
            }
            chosen.release();
        }
    }

    /** The backend of {@code current} with the fewest outstanding requests, ties taken in turn; null if there is none. */
    private Backend fewestInFlight(List<Backend> current) {
        int size = current.size();
        if (size == 0) {
            return null;
        }
        Backend chosen = current.get(0);
        if (size > 1) {
            int start = Math.floorMod(nextTie.getAndIncrement(), size);
            int fewest = Integer.MAX_VALUE;
            for (int i = 0; i < size; i++) {
                Backend candidate = current.get((start + i) % size);
                int load = candidate.inFlight();
                if (load < fewest) {
                    fewest = load;
                    chosen = candidate;
                }
            }
        }
        return chosen;
    }
}
