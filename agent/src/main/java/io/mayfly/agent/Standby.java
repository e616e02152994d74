package io.mayfly.agent;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The liveness window after a switch ({@code [health] liveness}): the new release serves while the previous release's
 * instances stand by, running but out of the route. If a new instance exits or fails its health check in the window,
 * traffic goes back to them at once and the new release is rolled back; when the window passes, they are stopped.
 * A later deploy of the app ends the window early. Made and ended by the agent's {@link LivenessWindows}.
 *
 * @param previousRelease the release the standing-by instances run (0 when none stand by, as after an immediate deploy)
 */
public record Standby(
        String app,
        int release,
        int previousRelease,
        List<Instance> previous,
        List<Instance> fresh,
        Instant since,
        Instant until,
        CompletableFuture<Ending> ending) {

    /** How a liveness window ended. */
    public sealed interface Ending {
        /** The new release stayed up for the whole window; the previous instances were stopped. */
        record Held() implements Ending {}

        /** Another deploy of the app came first; the previous instances were stopped. */
        record Superseded() implements Ending {}

        /**
         * The new release failed in the window: {@code reason} says how, {@code afterLive} how long after the switch,
         * and {@code switchBack} how long moving the traffic back to the {@code serving} previous instances took.
         */
        record RolledBack(String reason, Duration afterLive, Duration switchBack, int serving) implements Ending {}
    }

    static Standby of(
            String app,
            int release,
            int previousRelease,
            List<Instance> previous,
            List<Instance> fresh,
            Duration window) {
        Instant now = Instant.now();
        return new Standby(
                app,
                release,
                previousRelease,
                List.copyOf(previous),
                List.copyOf(fresh),
                now,
                now.plus(window),
                new CompletableFuture<>());
    }

    public boolean ended() {
        return ending.isDone();
    }
}
