package io.mayfly.agent.remote;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How a deploy's lines are batched for the push that waits for them ({@link LineQueue}). */
class LineQueueTest {
    @Test
    void linesSaidWhileABatchIsOnItsWayGoInTheNextBatch() {
        LineQueue lines = new LineQueue();
        assertThat(lines.add("fetching")).as("the first line starts a sender").isTrue();
        assertThat(lines.add("booting")).as("one is on its way").isFalse();
        assertThat(lines.nextBatch()).containsExactly("fetching", "booting");
        assertThat(lines.add("healthy")).isFalse();
        assertThat(lines.nextBatch()).containsExactly("healthy");
        assertThat(lines.sending()).isTrue();
        assertThat(lines.nextBatch()).as("nothing queued: the sender is done").isNull();
        assertThat(lines.sending()).isFalse();
        assertThat(lines.add("switched"))
                .as("the next line starts another sender")
                .isTrue();
    }

    @Test
    void batchesTheServerDidNotShowGoWithTheReportBeforeTheLinesStillQueued() {
        LineQueue lines = new LineQueue();
        lines.add("fetching");
        List<String> lost = lines.nextBatch();
        lines.add("booting");
        List<String> last = lines.takeQueued();
        lines.notShown(lost);
        assertThat(lines.nextBatch())
                .as("the queued lines were taken for the report")
                .isNull();
        assertThat(lines.forReport(last)).containsExactly("fetching", "booting");
    }

    @Test
    void linesTheServerShowedAreNotReportedAgain() {
        LineQueue lines = new LineQueue();
        lines.add("fetching");
        lines.nextBatch(); // shown
        lines.add("booting");
        assertThat(lines.forReport(lines.takeQueued())).containsExactly("booting");
    }
}
