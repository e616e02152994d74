package io.mayfly.agent.remote;

import io.mayfly.wire.AgentViews;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The latest desired state heard from the server, passed from the thread that follows the server to the one that
 * converges. That one is woken only when the work asked for changes (the assignments or the declared apps), not
 * for a state that says the same again.
 */
final class LatestDesired {
    private final AtomicReference<AgentViews.DesiredState> latest = new AtomicReference<>();

    void offer(AgentViews.DesiredState state) {
        if (changes(latest.getAndSet(state), state)) {
            synchronized (this) {
                notifyAll();
            }
        }
    }

    /** The latest state; null until one was heard. */
    AgentViews.DesiredState get() {
        return latest.get();
    }

    /** Waits, a second at most, unless something arrived since {@code seen} was read. */
    void awaitNewer(AgentViews.DesiredState seen) throws InterruptedException {
        synchronized (this) {
            if (latest.get() == seen) wait(1000);
        }
    }

    /** Whether {@code after} asks for other work than {@code before} (null: nothing asked yet): other assignments or declared apps. */
    static boolean changes(AgentViews.DesiredState before, AgentViews.DesiredState after) {
        return before == null
                || !before.assignments().equals(after.assignments())
                || !Objects.equals(before.declared(), after.declared());
    }
}
