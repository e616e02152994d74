package io.mayfly.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What a restarted agent does with each instance it finds a state file of. */
class ReadoptionTest {
    @Test
    void aRunningInstanceARouteNamesIsAdoptedAsItIs() {
        assertThat(Readoption.of(true, true)).isEqualTo(Readoption.Action.ADOPT);
    }

    @Test
    void aRunningInstanceNoRouteNamesWasNeverSwitchedToAndStops() {
        assertThat(Readoption.of(true, false)).isEqualTo(Readoption.Action.STOP);
    }

    @Test
    void anInstanceWhoseProcessIsGoneIsForgottenRoutedOrNot() {
        assertThat(Readoption.of(false, true)).isEqualTo(Readoption.Action.FORGET);
        assertThat(Readoption.of(false, false)).isEqualTo(Readoption.Action.FORGET);
    }
}
