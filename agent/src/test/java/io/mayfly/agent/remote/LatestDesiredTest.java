package io.mayfly.agent.remote;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.AgentViews.AssignedArtifact;
import io.mayfly.wire.AgentViews.Assignment;
import io.mayfly.wire.AgentViews.DesiredState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which desired states ask for a converging pass ({@link LatestDesired}). */
class LatestDesiredTest {
    private static Assignment web(int release, int instances) {
        return new Assignment(
                "web",
                release,
                "[run]",
                List.of(),
                Map.of(),
                List.of(new AssignedArtifact("image", "ab12", "sig")),
                instances,
                false,
                false,
                null);
    }

    @Test
    void theFirstStateHeardIsWork() {
        assertThat(LatestDesired.changes(null, new DesiredState("a1", 1, List.of())))
                .isTrue();
    }

    @Test
    void theSameWorkInANewerGenerationIsNot() {
        DesiredState before = new DesiredState("a1", 1, List.of(web(3, 1)), List.of("api"));
        assertThat(LatestDesired.changes(before, new DesiredState("a1", 2, List.of(web(3, 1)), List.of("api"))))
                .isFalse();
    }

    @Test
    void anotherAssignmentOrAnotherDeclaredAppIs() {
        DesiredState before = new DesiredState("a1", 1, List.of(web(3, 1)), List.of("api"));
        assertThat(LatestDesired.changes(before, new DesiredState("a1", 2, List.of(web(4, 1)), List.of("api"))))
                .as("a new release")
                .isTrue();
        assertThat(LatestDesired.changes(before, new DesiredState("a1", 2, List.of(web(3, 2)), List.of("api"))))
                .as("ps:scale")
                .isTrue();
        assertThat(LatestDesired.changes(before, new DesiredState("a1", 2, List.of(web(3, 1)), List.of())))
                .as("api destroyed")
                .isTrue();
        assertThat(LatestDesired.changes(before, new DesiredState("a1", 2, List.of(web(3, 1)), null)))
                .as("no declared list")
                .isTrue();
    }

    @Test
    void aStateOfferedIsTheLatest() {
        LatestDesired latest = new LatestDesired();
        assertThat(latest.get()).isNull();
        DesiredState first = new DesiredState("a1", 1, List.of(web(3, 1)));
        DesiredState second = new DesiredState("a1", 2, List.of(web(3, 1)));
        latest.offer(first);
        latest.offer(second);
        assertThat(latest.get()).as("kept even when it asks for the same work").isSameAs(second);
    }
}
