package io.mayfly.agent.router;

import io.micrometer.core.instrument.Timer;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Which app a Host header names, and that app's route, limits and event log; shared by all event loops. */
final class RouteTable {
    private static final Logger log = LoggerFactory.getLogger(RouteTable.class);

    final String domain;
    /** How long a client may take to send a request head: server-wide, as the head names the app. */
    final long headerTimeoutNanos;
    /** The limits of apps that set none of their own, and of requests that name no app. */
    final RouteLimits defaults;

    private final ConcurrentHashMap<String, AppRoute> routes = new ConcurrentHashMap<>();
    private final LongAdder retries = new LongAdder();
    private final Function<String, Timer> timers;
    private volatile BiConsumer<String, String> events = (app, line) -> {};
    /** Set when the router hands over to another process: every answer from then on closes its connection. */
    volatile boolean draining;

    RouteTable(String domain, Function<String, Timer> timers, Duration headerTimeout, RouteLimits defaults) {
        this.timers = timers;
        RouteLimits.check(headerTimeout, "header timeout");
        this.headerTimeoutNanos = headerTimeout.toNanos();
        this.defaults = defaults.orElse(RouteLimits.DEFAULT);
        String normalized = domain.toLowerCase(Locale.ROOT);
        while (normalized.endsWith(".")) {
            normalized = normalized.substring(0, normalized.length() - 1);
        }
        if (normalized.isEmpty()) {
            throw new IllegalArgumentException(
                    "router domain is empty: give the domain apps are served under, e.g. localhost");
        }
        this.domain = normalized;
    }

    /** The app named by Host "{app}.{domain}" (any port, any case), lower-cased; null if Host is not under the domain. */
    String appOf(String host) {
        int end = host.length();
        if (end == 0 || host.charAt(0) == '[') {
            return null;
        }
        int colon = host.lastIndexOf(':');
        if (colon >= 0) {
            end = colon;
        }
        if (end > 0 && host.charAt(end - 1) == '.') {
            end--;
        }
        int dot = host.indexOf('.');
        if (dot <= 0 || dot >= end) {
            return null;
        }
        int restLength = end - dot - 1;
        if (restLength != domain.length() || !host.regionMatches(true, dot + 1, domain, 0, restLength)) {
            return null;
        }
        return host.substring(0, dot).toLowerCase(Locale.ROOT);
    }

    AppRoute route(String app) {
        return routes.get(app);
    }

    AppRoute routeOrCreate(String app) {
        return routes.computeIfAbsent(app, a -> new AppRoute(a, timers.apply(a), defaults));
    }

    AppRoute removeRoute(String app) {
        return routes.remove(app);
    }

    List<String> apps() {
        return routes.keySet().stream().sorted().toList();
    }

    void reportTo(BiConsumer<String, String> events) {
        this.events = events;
    }

    /**
     * Tells the app's log that one of its requests timed out, at most once a second per app (the rest are counted into
     * the next line). Called on an event loop; the line is written off it, as the log may block.
     */
    void timedOut(AppRoute route, String line, EventLoop loop) {
        long now = System.nanoTime();
        String toWrite = route.timeouts.offer(line, now);
        if (toWrite != null) {
            write(route.app, toWrite);
            return;
        }
        long delay = route.timeouts.flushDelay(now);
        if (delay >= 0) {
            loop.schedule(
                    () -> {
                        String held = route.timeouts.flush(System.nanoTime());
                        if (held != null) {
                            write(route.app, held);
                        }
                    },
                    delay,
                    TimeUnit.NANOSECONDS);
        }
    }

    private void write(String app, String line) {
        BiConsumer<String, String> to = events;
        Thread.ofVirtual().name("router-event").start(() -> {
            try {
                to.accept(app, line);
            } catch (RuntimeException e) {
                log.warn("cannot write the router's event about app {}: {}", app, e.toString());
            }
        });
    }

    void countRetry() {
        retries.increment();
    }

    long retries() {
        return retries.sum();
    }
}
