package io.mayfly.agent;

/** Where the agent reports what happened to an app's instances (a crash, a restart), for the app's log. */
@FunctionalInterface
public interface AgentEvents {
    void event(String app, String line);

    AgentEvents NONE = (app, line) -> {};

    /** How an event says how long something took: {@code 850 ms}, {@code 42 s}, {@code 7 min}. */
    static String human(java.time.Duration d) {
        if (d.toMillis() < 1000) return d.toMillis() + " ms";
        if (d.toSeconds() < 120) return d.toSeconds() + " s";
        return d.toMinutes() + " min";
    }
}
