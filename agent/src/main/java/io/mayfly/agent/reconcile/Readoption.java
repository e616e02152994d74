package io.mayfly.agent.reconcile;

/** What a restarted agent does with each instance whose state file it finds, from what it observes of it. */
public final class Readoption {
    private Readoption() {}

    public enum Action {
        /** Its process is gone: forget it (its state file goes). */
        FORGET,
        /** It runs and a saved route names it: adopt it as it is, without a restart, and route to it again. */
        ADOPT,
        /** It runs but no route names it (a deploy booted it and never switched to it): adopt it, then stop it. */
        STOP
    }

    /**
     * @param running whether its driver found the process still running (same pid, same start time)
     * @param routed  whether a saved route names it
     */
    public static Action of(boolean running, boolean routed) {
        if (!running) return Action.FORGET;
        return routed ? Action.ADOPT : Action.STOP;
    }
}
