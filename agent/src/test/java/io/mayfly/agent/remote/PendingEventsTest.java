package io.mayfly.agent.remote;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.AgentViews.AppEvent;
import org.junit.jupiter.api.Test;

/** The events that wait for the server ({@link PendingEvents}). */
class PendingEventsTest {
    @Test
    void whatTheServerTookGoesAndWhatCameMeanwhileStays() {
        PendingEvents events = new PendingEvents();
        events.add(new AppEvent("web", "one"));
        events.add(new AppEvent("web", "two"));
        var sent = events.all();
        events.add(new AppEvent("api", "three"));
        events.acknowledged(sent.size());
        assertThat(events.all()).containsExactly(new AppEvent("api", "three"));
    }

    @Test
    void acknowledgingMoreThanWaitsLeavesNothing() {
        PendingEvents events = new PendingEvents();
        events.add(new AppEvent("web", "one"));
        events.acknowledged(5);
        assertThat(events.all()).isEmpty();
    }

    @Test
    void pastTheBoundTheOldestGo() {
        PendingEvents events = new PendingEvents();
        for (int i = 0; i < PendingEvents.MAX + 5; i++) events.add(new AppEvent("web", "line " + i));
        assertThat(events.all()).hasSize(PendingEvents.MAX);
        assertThat(events.all().getFirst().line()).isEqualTo("line 5");
        assertThat(events.all().getLast().line()).isEqualTo("line " + (PendingEvents.MAX + 4));
    }
}
