package io.mayfly.agent.driver;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** One running instance and its wait loop (Nomad's handle.go). */
public interface InstanceHandle {

    InstanceState state();

    boolean isAlive();

    /** How the health check reaches the guest itself, not what Mayfly put in front of it (see {@link Guest}). */
    Guest guest();

    /** Completes with the exit code (or -1 if unknown, e.g. for an adopted process) when the instance ends. */
    CompletableFuture<Integer> exited();

    /** Asks the instance to stop (SIGTERM or the driver's equivalent), then kills it after {@code grace}. Blocks until it is gone. */
    void stop(Duration grace);

    /**
     * The agent is shutting down and leaves the instance running: lets go of what the agent's own process holds for
     * it (a port forwarder), which the next agent takes up again in {@link Driver#recover}. Most handles hold nothing.
     */
    default void detach() {}
}
