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

    private LoadLoop(MayflyProcess mayfly, String app, int threads) {
        clients = IntStream.range(0, threads).mapToObj(n -> Thread.ofPlatform().start(() -> {
            while (running.get() && requests.incrementAndGet() < MAX_REQUESTS) {
                try {
                    HttpResponse<String> r = mayfly.visit(app, "/");
                    if (r.statusCode() != 200) failures.add(r.statusCode() + ": " + r.body());
                } catch (Exception e) {
                    failures.add(e.toString());
                }
            }
        })).toList();
    }

    static LoadLoop start(MayflyProcess mayfly, String app, int threads) {
        return new LoadLoop(mayfly, app, threads);
    }

    /** Stops the clients and waits for them. */
    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : clients) t.join();
    }

    List<String> failures() { return failures; }

    int requests() { return requests.get(); }
}
