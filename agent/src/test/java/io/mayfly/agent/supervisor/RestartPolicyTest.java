package io.mayfly.agent.supervisor;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class RestartPolicyTest {
    @Test
    void theFirstCrashRestartsAtOnceAndEachFurtherOneWaitsTwiceAsLongUpToTheCap() {
        RestartPolicy p = RestartPolicy.DEFAULT;
        assertThat(p.delay(0)).isEqualTo(Duration.ZERO);
        assertThat(p.delay(1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(p.delay(2)).isEqualTo(Duration.ofSeconds(2));
        assertThat(p.delay(3)).isEqualTo(Duration.ofSeconds(4));
        assertThat(p.delay(9)).isEqualTo(Duration.ofSeconds(256));
        assertThat(p.delay(10)).isEqualTo(Duration.ofMinutes(5));
        assertThat(p.delay(1000)).isEqualTo(Duration.ofMinutes(5));
    }
}
