package io.mayfly.agent.remote;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How the desired-state stream is read, line by line ({@link ServerSentEvents}). */
class ServerSentEventsTest {
    private static List<String> kept(String... lines) {
        ServerSentEvents events = new ServerSentEvents("desired");
        List<String> kept = new ArrayList<>();
        for (String line : lines) {
            String data = events.line(line);
            if (data != null) kept.add(data);
        }
        return kept;
    }

    @Test
    void aDesiredEventIsKeptWhenItsBlankLineEndsIt() {
        assertThat(kept("event: desired", "data: {\"generation\":1}"))
                .as("not ended yet")
                .isEmpty();
        assertThat(kept("event: desired", "data: {\"generation\":1}", "")).containsExactly("{\"generation\":1}");
    }

    @Test
    void dataLinesOfOneEventAreJoinedTrimmed() {
        assertThat(kept("event:desired", "data:  {\"a\":", "data: 1}  ", "")).containsExactly("{\"a\":1}");
    }

    @Test
    void otherEventsCommentsAndEmptyEventsAreNotKept() {
        assertThat(kept(": keep-alive", "", "event: ping", "data: x", "", "event: desired", ""))
                .isEmpty();
        assertThat(kept("data: without a name", ""))
                .as("an unnamed event is not a desired state")
                .isEmpty();
    }

    @Test
    void eachEventStartsAfresh() {
        assertThat(kept("event: desired", "data: 1", "", "data: 2", "", "event: desired", "data: 3", ""))
                .as("the second event has no name: its data is not carried into the third")
                .containsExactly("1", "3");
    }
}
