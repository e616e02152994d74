package io.mayfly.agent.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TapTest {
    @Test
    void theTapIsNamedAfterThePortAndTheHostAndGuestShareTheSlash30OfThatPort() {
        assertThat(Tap.forPort(1)).isEqualTo(new Tap("mf1", "10.212.0.5", "10.212.0.6"));
        assertThat(Tap.forPort(41234)).isEqualTo(new Tap("mf41234", "10.214.132.73", "10.214.132.74"));
        assertThat(Tap.forPort(65535)).isEqualTo(new Tap("mf65535", "10.215.255.253", "10.215.255.254"));
        assertThat(Tap.forPort(41234).hostCidr()).isEqualTo("10.214.132.73/30");
        assertThat(Tap.forPort(41234).guestCidr()).isEqualTo("10.214.132.74/30");
    }

    @Test
    void everyPortHasItsOwnSubnetInsideTheRangeAndANameLinuxAccepts() {
        Set<String> subnets = new HashSet<>();
        for (int port = 1; port <= 65535; port++) {
            Tap tap = Tap.forPort(port);
            String[] host = tap.hostAddress().split("\\.");
            assertThat(host[0]).isEqualTo("10");
            assertThat(Integer.parseInt(host[1])).isBetween(212, 215);
            assertThat(Integer.parseInt(host[3]) % 4)
                    .as("the host is the first address of its /30")
                    .isEqualTo(1);
            assertThat(tap.name().getBytes()).hasSizeLessThanOrEqualTo(15);
            subnets.add(host[0] + "." + host[1] + "." + host[2] + "." + (Integer.parseInt(host[3]) - 1));
        }
        assertThat(subnets).hasSize(65535);
    }

    @Test
    void aNumberThatIsNoPortIsRefused() {
        assertThatThrownBy(() -> Tap.forPort(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Tap.forPort(65536)).isInstanceOf(IllegalArgumentException.class);
    }
}
