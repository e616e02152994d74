package io.mayfly.dist;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

/**
 * Requests through the router, one after another on each of a few threads, for as long as a deploy or an outage
 * lasts (bounded): what a zero-downtime test counts. Every answer but a 200, and every error, is a failure.
 */
final class LoadLoop implements AutoCloseable {
    private static final int MAX_REQUESTS = 100_000;

    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger requests = new AtomicInteger();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final List<Thread> clients;
    /** When the last 200 came (nanoTime), and the longest time between two 200s so far. */
    private final java.util.concurrent.atomic.AtomicLong lastAnswer =
            new java.util.concurrent.atomic.AtomicLong(System.nanoTime());

    private final java.util.concurrent.atomic.AtomicLong longestGap = new java.util.concurrent.atomic.AtomicLong();

    private LoadLoop(int routerPort, String app, int threads) {
        clients = IntStream.range(0, threads)
                .mapToObj(n -> Thread.ofPlatform().start(() -> {
                    while (running.get() && requests.incrementAndGet() < MAX_REQUESTS) {
                        try {
                            HttpResponse<String> r = MayflyProcess.visit(routerPort, app, "/");
                            if (r.statusCode() != 200) {
                                failures.add(r.statusCode() + ": " + r.body());
                            } else {
                                long now = System.nanoTime();
                                long previous = lastAnswer.getAndSet(now);
                                longestGap.accumulateAndGet(now - previous, Math::max);
                            }
                        } catch (Exception e) {
                            failures.add(e.toString());
                        }
                    }
                }))
                .toList();
    }

    static LoadLoop start(MayflyProcess mayfly, String app, int threads) {
        return new LoadLoop(mayfly.routerPort, app, threads);
    }

    /** Through the router listening on {@code routerPort} (a remote agent's). */
    static LoadLoop start(int routerPort, String app, int threads) {
        return new LoadLoop(routerPort, app, threads);
    }

    /** Stops the clients and waits for them. */
    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : clients) t.join();
    }

    List<String> failures() {
        return failures;
    }

    int requests() {
        return requests.get();
    }

    /** The longest time between two answered requests (any client), in milliseconds. */
    long longestGapMillis() {
        return longestGap.get() / 1_000_000;
    }
}
