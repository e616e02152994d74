package io.mayfly.agent;

/** Where the agent reports what happened to an app's instances (a crash, a restart), for the app's log. */
@FunctionalInterface
public interface AgentEvents {
    void event(String app, String line);

    AgentEvents NONE = (app, line) -> {};
}
