package io.mayfly.agent.reconcile;

import java.util.ArrayList;
import java.util.List;

/**
 * The steps of a rolling deploy: one new instance at a time, each routed in place of one old instance once healthy.
 * The old instances keep running, unrouted, until the last step succeeded, so that a failing step goes back to
 * routing the old ones at once.
 */
public final class Rollout {
    private Rollout() {}

    /**
     * What the router serves once step {@code step} (0-based) has booted its instance: the new instances so far
     * ({@code fresh}, in boot order, the one of this step last), then the old ones not yet replaced. With fewer old
     * instances than steps the extra steps only add; with more, the last step still leaves the rest routed, and they
     * are drained after the switch like the others.
     */
    public static <T> List<T> routedAfter(int step, List<T> fresh, List<T> old) {
        if (step < 0 || fresh.size() != step + 1) {
            throw new IllegalArgumentException(
                    "step " + step + " needs " + (step + 1) + " new instances, not " + fresh.size());
        }
        List<T> routed = new ArrayList<>(fresh);
        routed.addAll(old.subList(Math.min(step + 1, old.size()), old.size()));
        return routed;
    }

    /** The old instance step {@code step} replaces in the router, or null when there is none left to replace. */
    public static <T> T replacedAt(int step, List<T> old) {
        return step < old.size() ? old.get(step) : null;
    }
}
