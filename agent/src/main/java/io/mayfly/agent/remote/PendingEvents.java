package io.mayfly.agent.remote;

import io.mayfly.wire.AgentViews;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * The agent's events about apps that the server has not acknowledged yet, oldest first. While the server is away
 * they pile up to {@link #MAX}; past that the oldest go, so that an agent cut off for long does not grow without bound.
 */
final class PendingEvents {
    static final int MAX = 1000;

    private final Deque<AgentViews.AppEvent> events = new ArrayDeque<>();

    synchronized void add(AgentViews.AppEvent event) {
        events.addLast(event);
        while (events.size() > MAX) events.removeFirst();
    }

    /** All of them, oldest first, for the next heartbeat. */
    synchronized List<AgentViews.AppEvent> all() {
        return List.copyOf(events);
    }

    /** The server took the {@code sent} oldest ones (those of the heartbeat): they go, and any added meanwhile stay. */
    synchronized void acknowledged(int sent) {
        for (int i = 0; i < sent && !events.isEmpty(); i++) events.removeFirst();
    }
}
