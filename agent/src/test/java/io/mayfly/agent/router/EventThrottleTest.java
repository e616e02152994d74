package io.mayfly.agent.router;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EventThrottleTest {
    private static final long SECOND = 1_000_000_000L;
    private static final long MS = 1_000_000L;

    private final EventThrottle throttle = new EventThrottle(SECOND);

    @Test
    void theFirstEventIsWrittenAtOnceAndTheNextOnesOfTheSecondAreCountedIntoOneLine() {
        assertThat(throttle.offer("timeout 1", 0)).isEqualTo("timeout 1");
        assertThat(throttle.offer("timeout 2", 100 * MS)).isNull();
        assertThat(throttle.flushDelay(100 * MS)).isEqualTo(900 * MS);
        assertThat(throttle.offer("timeout 3", 200 * MS)).isNull();
        assertThat(throttle.flushDelay(200 * MS)).as("a flush is due already").isEqualTo(-1);
        assertThat(throttle.offer("timeout 4", 300 * MS)).isNull();

        assertThat(throttle.flush(SECOND)).isEqualTo("timeout 4 (and 2 more since the last report)");
        assertThat(throttle.flush(SECOND)).isNull();
    }

    @Test
    void aFlushStartsTheNextWindow() {
        throttle.offer("timeout 1", 0);
        throttle.offer("timeout 2", 500 * MS);
        throttle.flushDelay(500 * MS);
        assertThat(throttle.flush(SECOND)).isEqualTo("timeout 2");

        assertThat(throttle.offer("timeout 3", SECOND + 500 * MS)).isNull();
        assertThat(throttle.flushDelay(SECOND + 500 * MS)).isEqualTo(500 * MS);
        assertThat(throttle.offer("timeout 4", 2 * SECOND))
                .as("the window is over")
                .isEqualTo("timeout 4 (and 1 more since the last report)");
        assertThat(throttle.flush(2 * SECOND))
                .as("nothing left for the flush that was due")
                .isNull();
    }

    @Test
    void eventsASecondApartAreAllWrittenAsTheyCome() {
        for (int i = 0; i < 5; i++) {
            assertThat(throttle.offer("timeout " + i, i * SECOND)).isEqualTo("timeout " + i);
        }
    }
}
