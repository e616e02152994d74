package io.mayfly.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which instances serve at each step of a rolling deploy, for as many, fewer and more new instances than old. */
class RolloutTest {
    @Test
    void asManyNewAsOldReplaceOneOldInstancePerStepInOrder() {
        List<String> old = List.of("o1", "o2", "o3");
        assertThat(Rollout.routedAfter(0, List.of("n1"), old)).containsExactly("n1", "o2", "o3");
        assertThat(Rollout.routedAfter(1, List.of("n1", "n2"), old)).containsExactly("n1", "n2", "o3");
        assertThat(Rollout.routedAfter(2, List.of("n1", "n2", "n3"), old)).containsExactly("n1", "n2", "n3");
        assertThat(Rollout.replacedAt(0, old)).isEqualTo("o1");
        assertThat(Rollout.replacedAt(2, old)).isEqualTo("o3");
    }

    @Test
    void scalingUpWhileRollingAddsOnceTheOldOnesAreReplaced() {
        List<String> old = List.of("o1");
        assertThat(Rollout.routedAfter(0, List.of("n1"), old)).containsExactly("n1");
        assertThat(Rollout.routedAfter(1, List.of("n1", "n2"), old)).containsExactly("n1", "n2");
        assertThat(Rollout.replacedAt(1, old)).as("nothing left to replace").isNull();
    }

    @Test
    void scalingDownWhileRollingLeavesTheRestRoutedUntilTheyAreDrained() {
        List<String> old = List.of("o1", "o2", "o3");
        assertThat(Rollout.routedAfter(0, List.of("n1"), old)).containsExactly("n1", "o2", "o3");
        assertThat(Rollout.routedAfter(1, List.of("n1", "n2"), old)).containsExactly("n1", "n2", "o3");
    }

    @Test
    void aFirstDeployHasNothingToReplace() {
        assertThat(Rollout.routedAfter(0, List.of("n1"), List.of())).containsExactly("n1");
        assertThat(Rollout.<String>replacedAt(0, List.of())).isNull();
    }

    @Test
    void aStepNeedsExactlyItsNewInstances() {
        assertThatThrownBy(() -> Rollout.routedAfter(1, List.of("n1"), List.of("o1", "o2")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("step 1 needs 2 new instances, not 1");
        assertThatThrownBy(() -> Rollout.routedAfter(-1, List.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
