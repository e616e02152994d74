package io.mayfly.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.agent.reconcile.Reconcile.Action;
import io.mayfly.agent.reconcile.Reconcile.Observed;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What an agent does about an assignment, case by case ({@link Reconcile#next}). */
class ReconcileTest {
    private static Observed serving(Integer... releases) {
        return new Observed(List.of(releases), false, false, null);
    }

    @Test
    void nothingHereDeploys() {
        assertThat(Reconcile.next(1, 1, true, Observed.NOTHING)).isEqualTo(Action.DEPLOY);
        assertThat(Reconcile.next(1, 3, false, Observed.NOTHING))
                .as("after a restart of the agent, or a move here")
                .isEqualTo(Action.DEPLOY);
    }

    @Test
    void theAssignedReleaseWithTheAssignedCountIsReportedLiveAgainOnlyWhenADeployWaitsForIt() {
        assertThat(Reconcile.next(4, 2, true, serving(4, 4))).isEqualTo(Action.REPORT_LIVE);
        assertThat(Reconcile.next(4, 1, true, serving(4))).isEqualTo(Action.REPORT_LIVE);
        assertThat(Reconcile.next(4, 1, false, serving(4)))
                .as("nobody waits: another app changed, or this deploy was recorded")
                .isEqualTo(Action.STEADY);
        assertThat(Reconcile.next(4, 2, false, serving(4, 4))).isEqualTo(Action.STEADY);
    }

    @Test
    void anotherReleaseServingDeploysTheAssignedOne() {
        assertThat(Reconcile.next(5, 1, true, serving(4))).isEqualTo(Action.DEPLOY);
        assertThat(Reconcile.next(3, 1, true, serving(4))).as("a rollback").isEqualTo(Action.DEPLOY);
        assertThat(Reconcile.next(5, 2, true, serving(4, 5))).as("half rolled").isEqualTo(Action.DEPLOY);
    }

    @Test
    void theAssignedReleaseWithAnotherCountRescales() {
        assertThat(Reconcile.next(4, 3, false, serving(4))).isEqualTo(Action.RESCALE);
        assertThat(Reconcile.next(4, 1, false, serving(4, 4, 4))).isEqualTo(Action.RESCALE);
    }

    @Test
    void aReleaseThatFailedHereIsNotRetriedUntilAnotherIsAssigned() {
        Observed failedFive = new Observed(List.of(4), false, false, 5);
        assertThat(Reconcile.next(5, 1, true, failedFive)).isEqualTo(Action.WAIT_FOR_ANOTHER_RELEASE);
        assertThat(Reconcile.next(6, 1, true, failedFive)).isEqualTo(Action.DEPLOY);
        assertThat(Reconcile.next(4, 1, false, failedFive))
                .as("the one serving is still as assigned")
                .isEqualTo(Action.STEADY);
        assertThat(Reconcile.next(4, 1, true, failedFive))
                .as("a rollback to the one serving")
                .isEqualTo(Action.REPORT_LIVE);
        assertThat(Reconcile.next(5, 1, true, new Observed(List.of(), false, false, 5)))
                .as("a crash loop: nothing left running")
                .isEqualTo(Action.WAIT_FOR_ANOTHER_RELEASE);
    }

    @Test
    void scaleToZeroSetsUpTheSleepOfTheReleaseServingOrOfOneNoPushWaitsFor() {
        assertThat(Reconcile.next(4, 0, false, serving(4))).as("ps:scale web=0").isEqualTo(Action.SCALE_TO_ZERO);
        assertThat(Reconcile.next(4, 0, false, Observed.NOTHING))
                .as("after a restart: boots on the next request")
                .isEqualTo(Action.SCALE_TO_ZERO);
        assertThat(Reconcile.next(4, 0, true, Observed.NOTHING))
                .as("a push waits: boot it now")
                .isEqualTo(Action.DEPLOY);
        assertThat(Reconcile.next(5, 0, true, serving(4)))
                .as("a new release of an app scaled to zero")
                .isEqualTo(Action.DEPLOY);
    }

    @Test
    void aSleepSetUpForThisAssignmentIsAsItShouldBe() {
        assertThat(Reconcile.next(4, 0, false, new Observed(List.of(), true, true, null)))
                .isEqualTo(Action.STEADY);
        assertThat(Reconcile.next(4, 0, false, new Observed(List.of(4), false, true, null)))
                .as("woken by a request")
                .isEqualTo(Action.STEADY);
        assertThat(Reconcile.next(4, 0, true, new Observed(List.of(), true, true, null)))
                .as("ps:scale to 0 waits for it")
                .isEqualTo(Action.REPORT_LIVE);
        assertThat(Reconcile.next(4, 0, false, new Observed(List.of(), true, false, null)))
                .as("set up for other settings")
                .isEqualTo(Action.SCALE_TO_ZERO);
    }

    @Test
    void anAppAsleepThatIsScaledUpAgainDeploys() {
        assertThat(Reconcile.next(4, 2, false, new Observed(List.of(), true, true, null)))
                .isEqualTo(Action.DEPLOY);
        assertThat(Reconcile.next(4, 1, false, new Observed(List.of(4), true, true, null)))
                .as("awake, but set up to sleep")
                .isEqualTo(Action.DEPLOY);
    }
}
