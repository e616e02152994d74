package io.mayfly.agent.reconcile;

import java.util.List;

/**
 * What an agent does about one app's assignment, from what it observes of the app here: a decision with no I/O and
 * no threads ({@link AssignmentRunner} observes, then carries the action out).
 */
public final class Reconcile {
    private Reconcile() {}

    /** The next step for an assignment. */
    public enum Action {
        /** It runs as assigned and a deploy waits for it: say so again (after the agent restarted, or a lost report). */
        REPORT_LIVE,
        /**
         * It runs as assigned and nobody waits: nothing to do, nothing to say (another app's change, or this deploy
         * recorded, sends the desired state again: no report for every app each time).
         */
        STEADY,
        /** This release failed here: nothing until the server assigns another. */
        WAIT_FOR_ANOTHER_RELEASE,
        /** The assigned release serves, with another instance count: boot or stop only the difference. */
        RESCALE,
        /** Scaled to zero: what runs stops when idle, and the release boots on the next request. */
        SCALE_TO_ZERO,
        /** Boot the release and switch to it, health-gated, by the manifest's strategy. */
        DEPLOY
    }

    /**
     * The app as the agent sees it: the releases of the instances its router sends traffic to, whether it sleeps
     * (scaled to zero with nothing running), whether the sleep is set up for exactly this assignment, and the release
     * that last failed here (null if none).
     */
    public record Observed(
            List<Integer> routedReleases, boolean asleep, boolean sleepingAsAssigned, Integer failedRelease) {
        public static final Observed NOTHING = new Observed(List.of(), false, false, null);
    }

    /**
     * @param release   the assigned release
     * @param instances the assigned count; 0 is scale to zero
     * @param deploying whether a push or rollback waits for this release (else the agent restarted, or the app moved)
     */
    public static Action next(int release, int instances, boolean deploying, Observed seen) {
        boolean zero = instances == 0;
        boolean sameRelease = seen.routedReleases().stream().allMatch(r -> r == release);
        boolean running = sameRelease
                && (zero ? seen.sleepingAsAssigned() : seen.routedReleases().size() == instances && !seen.asleep());
        if (running) return deploying ? Action.REPORT_LIVE : Action.STEADY;
        if (Integer.valueOf(release).equals(seen.failedRelease())) return Action.WAIT_FOR_ANOTHER_RELEASE;
        boolean serving = !seen.routedReleases().isEmpty();
        if (!zero && serving && !seen.asleep() && sameRelease) return Action.RESCALE;
        if (zero && sameRelease && (serving || !deploying)) return Action.SCALE_TO_ZERO;
        return Action.DEPLOY;
    }
}
