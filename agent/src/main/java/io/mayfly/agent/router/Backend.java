package io.mayfly.agent.router;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** One upstream instance: host:port plus a live count of in-flight requests. */
public final class Backend {
    private final String instanceId;
    private final String host;
    private final int port;
    private final InetSocketAddress address;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** How many app routes list this backend; idle connections to a backend no route lists are closed. */
    private final AtomicInteger routes = new AtomicInteger();

    private final ConcurrentLinkedQueue<CompletableFuture<Boolean>> drainWaiters = new ConcurrentLinkedQueue<>();
    /** When the last request finished (System.nanoTime), for stopping idle instances. */
    private volatile long lastActiveNanos = System.nanoTime();

    public Backend(String instanceId, String host, int port) {
        this.instanceId = Objects.requireNonNull(instanceId, "instanceId");
        this.host = Objects.requireNonNull(host, "host");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("backend " + instanceId + ": port " + port + " is not in 1..65535");
        }
        this.port = port;
        // Resolved here, off the event loops, so connecting never blocks on a name lookup.
        this.address = new InetSocketAddress(host, port);
    }

    public String instanceId() {
        return instanceId;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public int inFlight() {
        return inFlight.get();
    }

    /** How long no request has been in flight on this backend; zero while one is. */
    public Duration idleFor() {
        return inFlight.get() > 0 ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - lastActiveNanos);
    }

    /**
     * Completes when inFlight reaches 0 (immediately if already 0) or when timeout passes (then
     * completes normally too; returns whether it drained cleanly).
     */
    public CompletableFuture<Boolean> drained(Duration timeout) {
        if (inFlight.get() == 0) {
            return CompletableFuture.completedFuture(true);
        }
        CompletableFuture<Boolean> waiter = new CompletableFuture<>();
        drainWaiters.add(waiter);
        // Checked again after registering: release() may have reached 0 before it could see the waiter.
        if (inFlight.get() == 0) {
            waiter.complete(true);
        }
        waiter.whenComplete((clean, error) -> drainWaiters.remove(waiter));
        return waiter.completeOnTimeout(false, timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    InetSocketAddress address() {
        return address;
    }

    void acquire() {
        inFlight.incrementAndGet();
    }

    void release() {
        lastActiveNanos = System.nanoTime();
        if (inFlight.decrementAndGet() == 0 && !drainWaiters.isEmpty()) {
            CompletableFuture<Boolean> waiter;
            while ((waiter = drainWaiters.poll()) != null) {
                waiter.complete(true);
            }
        }
    }

    void routedBy(int delta) {
        routes.addAndGet(delta);
    }

    boolean isRouted() {
        return routes.get() > 0;
    }

    @Override
    public String toString() {
        return instanceId + "@" + host + ":" + port;
    }
}
