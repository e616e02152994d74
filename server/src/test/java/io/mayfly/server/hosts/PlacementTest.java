package io.mayfly.server.hosts;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which agent gets an app, case by case: {@link Placement#choose}. */
class PlacementTest {
    private static Placement.Candidate up(String name, long freeMb, String... drivers) {
        return new Placement.Candidate(name, true, Set.of(drivers), freeMb);
    }

    private static Placement.Candidate down(String name, long freeMb, String... drivers) {
        return new Placement.Candidate(name, false, Set.of(drivers), freeMb);
    }

    @Test
    void anAppStaysOnItsAgentWhileItIsUpAndOffersTheDriverEvenIfAnotherHasMoreRoom() {
        assertThat(Placement.choose(
                        "process", Optional.of("a"), List.of(up("a", 10, "process"), up("b", 9000, "process"))))
                .contains("a");
    }

    @Test
    void anAppLeavesAnAgentThatIsDownForTheOneWithTheMostFreeMemory() {
        assertThat(Placement.choose(
                        "process",
                        Optional.of("a"),
                        List.of(down("a", 9000, "process"), up("b", 100, "process"), up("c", 300, "process"))))
                .contains("c");
    }

    @Test
    void anAppLeavesAnAgentThatNoLongerOffersItsDriver() {
        assertThat(Placement.choose(
                        "qemu", Optional.of("a"), List.of(up("a", 9000, "process"), up("b", 1, "process", "qemu"))))
                .contains("b");
    }

    @Test
    void anAgentThatIsGoneFromTheListIsLeft() {
        assertThat(Placement.choose("process", Optional.of("gone"), List.of(up("b", 1, "process"))))
                .contains("b");
    }

    @Test
    void aNewAppGoesWhereTheMostMemoryIsFreeAmongThoseOfferingItsDriver() {
        assertThat(Placement.choose(
                        "qemu",
                        Optional.empty(),
                        List.of(
                                up("big", 9000, "process"),
                                up("small", 100, "qemu"),
                                up("mid", 500, "qemu", "process"))))
                .contains("mid");
    }

    @Test
    void aTieGoesToTheFirstNameInOrder() {
        assertThat(Placement.choose(
                        "process", Optional.empty(), List.of(up("web-2", 512, "process"), up("web-1", 512, "process"))))
                .contains("web-1");
    }

    @Test
    void overcommittedAgentsStillRunApps_theLeastOvercommittedFirst() {
        assertThat(Placement.choose(
                        "process", Optional.empty(), List.of(up("a", -300, "process"), up("b", -100, "process"))))
                .contains("b");
    }

    @Test
    void noAgentUpThatOffersTheDriverMeansNoPlace() {
        assertThat(Placement.choose("xen", Optional.of("a"), List.of(up("a", 100, "process"), down("b", 100, "xen"))))
                .isEmpty();
        assertThat(Placement.choose("process", Optional.empty(), List.of())).isEmpty();
    }
}
