package io.mayfly.agent.router;

import java.util.concurrent.CompletableFuture;

/**
 * Boots an instance of an app that has none (scale to zero). The router holds requests for the app until the
 * returned future completes, then serves them from whatever the app is routed to by then.
 */
@FunctionalInterface
public interface Waker {
    CompletableFuture<?> wake(String app);
}
