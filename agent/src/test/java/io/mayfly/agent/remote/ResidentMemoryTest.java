package io.mayfly.agent.remote;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The instances' resident memory in the heartbeat, measured at most once per period each (a clock the test moves). */
class ResidentMemoryTest {
    final AtomicLong now = new AtomicLong(1_000);
    final List<Long> measured = new ArrayList<>();
    final ResidentMemory memory = new ResidentMemory(
            pid -> {
                measured.add(pid);
                return pid * 1024 + measured.size();
            },
            now::get);

    @Test
    void anInstanceIsMeasuredAgainOnlyOnceItsLastMeasureIsOlderThanThePeriod() {
        assertThat(memory.of("web-1", 42, true)).isEqualTo(42 * 1024 + 1);
        now.addAndGet(ResidentMemory.EVERY_NANOS - 1);
        assertThat(memory.of("web-1", 42, true)).as("still the first measure").isEqualTo(42 * 1024 + 1);
        now.addAndGet(1);
        assertThat(memory.of("web-1", 42, true)).isEqualTo(42 * 1024 + 2);
        assertThat(measured).containsExactly(42L, 42L);
    }

    @Test
    void anInstanceNotRunningTakesNothingAndIsNotMeasured() {
        assertThat(memory.of("web-1", 42, false)).isZero();
        assertThat(memory.of("web-2", 0, true)).isZero();
        assertThat(measured).isEmpty();
    }

    @Test
    void eachInstanceHasItsOwnPeriodAndForgottenOnesAreMeasuredAfresh() {
        memory.of("web-1", 1, true);
        memory.of("web-2", 2, true);
        memory.keepOnly(Set.of("web-2"));
        memory.of("web-1", 1, true);
        memory.of("web-2", 2, true);
        assertThat(measured).containsExactly(1L, 2L, 1L);
    }
}
