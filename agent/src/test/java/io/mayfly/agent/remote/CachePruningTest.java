package io.mayfly.agent.remote;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.AgentViews.AssignedArtifact;
import io.mayfly.wire.AgentViews.Assignment;
import io.mayfly.wire.AgentViews.DesiredState;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the artifact cache keeps ({@link CachePruning#needed}). */
class CachePruningTest {
    private static Assignment assigned(String app, String... sha256s) {
        List<AssignedArtifact> artifacts = Arrays.stream(sha256s)
                .map(s -> new AssignedArtifact("file-" + s, s, "sig"))
                .toList();
        return new Assignment(app, 1, "[run]", List.of(), Map.of(), artifacts, 1, false, false, null);
    }

    @Test
    void everyAssignedArtifactIsKept() {
        DesiredState state = new DesiredState("a1", 1, List.of(assigned("web", "aa", "bb"), assigned("api", "cc")));
        assertThat(CachePruning.needed(state, List.of())).containsExactlyInAnyOrder("aa", "bb", "cc");
    }

    @Test
    void theFilesRunningInstancesStartedFromAreKeptByTheirName() {
        DesiredState state = new DesiredState("a1", 2, List.of(assigned("web", "new")));
        assertThat(CachePruning.needed(state, List.of(Path.of("/data/cache/old"), Path.of("/data/cache/initrd1"))))
                .as("the old release still drains")
                .containsExactlyInAnyOrder("new", "old", "initrd1");
    }

    @Test
    void nothingAssignedAndNothingRunningKeepsNothing() {
        assertThat(CachePruning.needed(new DesiredState("a1", 3, List.of()), List.of()))
                .isEmpty();
    }
}
