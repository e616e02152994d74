package io.mayfly.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

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

    /** The waits before each restart when every restarted instance crashes again after {@code lived}, as the supervisor chains them. */
    private static List<Duration> waitsOfCrashes(RestartPolicy p, Duration lived, int crashes) {
        List<Duration> waits = new ArrayList<>();
        int carried = 0; // the crash streak the running instance was started with
        for (int i = 0; i < crashes; i++) {
            int streak = p.streakAfter(lived, carried);
            waits.add(p.delay(streak));
            carried = streak + 1; // the restart carries the streak that led to it
        }
        return waits;
    }

    @Test
    void anInstanceThatKeepsCrashingAtOnceWaitsLongerBeforeEachRestartUntilTheCap() {
        RestartPolicy p = new RestartPolicy(Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofMinutes(1));
        assertThat(waitsOfCrashes(p, Duration.ofSeconds(2), 7))
                .containsExactly(
                        Duration.ZERO,
                        Duration.ofMillis(100),
                        Duration.ofMillis(200),
                        Duration.ofMillis(400),
                        Duration.ofMillis(800),
                        Duration.ofSeconds(1),
                        Duration.ofSeconds(1));
    }

    @Test
    void anInstanceThatRanStablyBeforeEachCrashIsRestartedAtOnceEveryTime() {
        RestartPolicy p = new RestartPolicy(Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofMinutes(1));
        assertThat(waitsOfCrashes(p, Duration.ofMinutes(1), 4)).containsOnly(Duration.ZERO);
    }

    @Test
    void aStableRunEndsACrashLoopButARunJustShortOfItDoesNot() {
        RestartPolicy p = RestartPolicy.DEFAULT;
        assertThat(p.streakAfter(Duration.ofMinutes(10), 7))
                .as("ran for resetAfter: a new streak")
                .isZero();
        assertThat(p.delay(p.streakAfter(Duration.ofMinutes(10), 7))).isEqualTo(Duration.ZERO);
        assertThat(p.streakAfter(Duration.ofMinutes(10).minusMillis(1), 7))
                .as("just short of it: the loop goes on")
                .isEqualTo(7);
        assertThat(p.delay(p.streakAfter(Duration.ofMinutes(10).minusMillis(1), 7)))
                .isEqualTo(Duration.ofSeconds(64));
        assertThat(p.streakAfter(Duration.ZERO, 0)).as("a first crash").isZero();
    }
}
