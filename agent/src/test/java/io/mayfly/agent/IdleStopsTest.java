package io.mayfly.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** When scale to zero stops an instance: once it served nothing for the app's idle time. */
class IdleStopsTest {
    @Test
    void anInstanceIdleForTheAppsIdleTimeOrLongerIsStopped() {
        assertThat(IdleStops.idle(Duration.ofSeconds(30), Duration.ofSeconds(30)))
                .isTrue();
        assertThat(IdleStops.idle(Duration.ofMinutes(5), Duration.ofSeconds(30)))
                .isTrue();
    }

    @Test
    void anInstanceThatServedRecentlyKeepsRunning() {
        assertThat(IdleStops.idle(Duration.ofSeconds(30).minusMillis(1), Duration.ofSeconds(30)))
                .isFalse();
    }

    @Test
    void anInstanceServingARequestNowIsNeverIdle() {
        // A backend with a request in flight reports no idle time at all.
        assertThat(IdleStops.idle(Duration.ZERO, Duration.ofSeconds(1))).isFalse();
    }
}
