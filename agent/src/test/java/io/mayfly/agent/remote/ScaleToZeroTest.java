package io.mayfly.agent.remote;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.AgentViews.Assignment;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a sleeping app's set-up is compared with ({@link ScaleToZero#steady}). */
class ScaleToZeroTest {
    private static Assignment web(int release, int instances, boolean deploying, boolean test) {
        return new Assignment(
                "web", release, "[run]", List.of(), Map.of("A", "1"), List.of(), instances, deploying, test, null);
    }

    @Test
    void whetherAPushWaitsOrATestRunsDoesNotChangeTheSleep() {
        assertThat(ScaleToZero.steady(web(4, 0, true, true))).isEqualTo(ScaleToZero.steady(web(4, 0, false, false)));
        assertThat(ScaleToZero.steady(web(4, 0, true, true))).isEqualTo(web(4, 0, false, false));
    }

    @Test
    void anotherReleaseOrCountDoes() {
        assertThat(ScaleToZero.steady(web(5, 0, false, false)))
                .isNotEqualTo(ScaleToZero.steady(web(4, 0, false, false)));
        assertThat(ScaleToZero.steady(web(4, 1, false, false)))
                .isNotEqualTo(ScaleToZero.steady(web(4, 0, false, false)));
    }
}
