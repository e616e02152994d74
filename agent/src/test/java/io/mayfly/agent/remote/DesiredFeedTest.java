package io.mayfly.agent.remote;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** How long the agent waits between tries while the server is away ({@link DesiredFeed#longer}). */
class DesiredFeedTest {
    @Test
    void theBackOffDoublesFromAQuarterSecondUpToFiveSeconds() {
        Duration backoff = DesiredFeed.FIRST_BACKOFF;
        StringBuilder seen = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            seen.append(backoff.toMillis()).append(' ');
            backoff = DesiredFeed.longer(backoff);
        }
        assertThat(seen.toString().trim()).isEqualTo("250 500 1000 2000 4000 5000 5000 5000");
    }

    @Test
    void aPauseAlreadyAtTheCapStaysThere() {
        assertThat(DesiredFeed.longer(DesiredFeed.MAX_BACKOFF)).isEqualTo(DesiredFeed.MAX_BACKOFF);
        assertThat(DesiredFeed.longer(Duration.ofSeconds(3))).as("not 6 s").isEqualTo(DesiredFeed.MAX_BACKOFF);
    }
}
