package io.mayfly.agent.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tests named {@code really...} create and remove real tap devices with the host's {@code ip}; they need root
 * (or CAP_NET_ADMIN) and /dev/net/tun, and are skipped without them. Every tap they make is removed afterwards.
 * The others check what the agent says about a host that does not let it create taps, on stand-in host trees.
 */
class TapDevicesTest {
    @TempDir
    Path dir;

    private final List<Tap> made = new ArrayList<>();

    @AfterEach
    void removeEveryTapMade() throws Exception {
        for (Tap tap : made) {
            if (Files.exists(Path.of("/sys/class/net", tap.name()))) {
                HostCommand.run(
                        Duration.ofSeconds(10), List.of(ip(), "tuntap", "del", "dev", tap.name(), "mode", "tap"));
            }
        }
    }

    private Tap realTap() {
        TapDevices host = new TapDevices();
        assumeTrue(
                host.problem().isEmpty(),
                () -> "this host does not let the tests create taps: "
                        + host.problem().orElseThrow());
        Tap tap = Tap.forPort(Ports.freeLoopbackPort());
        made.add(tap);
        return tap;
    }

    private static String ip() {
        return VmHost.executable("ip", "/usr/sbin", "/sbin").orElseThrow().toString();
    }

    private static String ipOutput(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(ip()));
        command.addAll(List.of(args));
        return HostCommand.run(Duration.ofSeconds(10), command).output();
    }

    @Test
    void reallyCreatesATapWithTheHostsAddressUpAndRemovesIt() throws Exception {
        Tap tap = realTap();
        TapDevices taps = new TapDevices();

        taps.create(tap);

        Path sys = Path.of("/sys/class/net", tap.name());
        assertThat(Integer.decode(Files.readString(sys.resolve("tun_flags")).trim()) & 0x0002)
                .as("IFF_TAP")
                .isNotZero();
        assertThat(Integer.decode(Files.readString(sys.resolve("flags")).trim()) & 0x0001)
                .as("IFF_UP")
                .isNotZero();
        assertThat(ipOutput("-4", "-o", "addr", "show", "dev", tap.name())).contains("inet " + tap.hostCidr() + " ");
        assertThat(taps.exists(tap.name())).isTrue();

        taps.remove(tap);

        assertThat(sys).doesNotExist();
        assertThat(taps.exists(tap.name())).isFalse();
    }

    @Test
    void reallyReplacesALeftoverTapOfTheSameName() throws Exception {
        Tap tap = realTap();
        assertThat(ipOutput("tuntap", "add", "dev", tap.name(), "mode", "tap")).isEmpty();

        new TapDevices().create(tap);

        assertThat(ipOutput("-4", "-o", "addr", "show", "dev", tap.name())).contains("inet " + tap.hostCidr() + " ");
    }

    @Test
    void reallyRemovingATapThatIsNotThereDoesNothing() throws Exception {
        Tap tap = realTap();

        new TapDevices().remove(tap);

        assertThat(Path.of("/sys/class/net", tap.name())).doesNotExist();
    }

    @Test
    void aHostWithTunAndARootAgentHasNoProblem() throws Exception {
        Path host = StandIns.host(dir);
        assertThat(new TapDevices(StandIns.ip(dir, host), host).problem()).isEmpty();
    }

    @Test
    void eachMissingPieceIsNamedWithWhatToDo() throws Exception {
        Path host = StandIns.host(dir);
        Path ip = StandIns.ip(dir, host);

        assertThat(new TapDevices(null, host).problem())
                .hasValueSatisfying(p -> assertThat(p).contains("ip not found", "apt-get install iproute2"));

        StandIns.agentStatus(host, 1000, "0000000000000000", "0000000000000000");
        assertThat(new TapDevices(ip, host).problem())
                .hasValueSatisfying(p -> assertThat(p)
                        .contains(
                                "the agent lacks CAP_NET_ADMIN",
                                "run it as root",
                                "AmbientCapabilities=CAP_NET_ADMIN"));

        StandIns.agentStatus(host, 0, "00000000a80425fb", "0000000000000000"); // root in a container without NET_ADMIN
        assertThat(new TapDevices(ip, host).problem())
                .hasValueSatisfying(p -> assertThat(p).contains("lacks CAP_NET_ADMIN", "--cap-add NET_ADMIN"));

        StandIns.agentStatus(
                host, 1000, "0000000000001000", "0000000000000000"); // a file capability: not passed on to ip
        assertThat(new TapDevices(ip, host).problem())
                .hasValueSatisfying(p -> assertThat(p).contains("not as an ambient capability"));

        StandIns.agentStatus(host, 1000, "0000000000001000", "0000000000001000");
        assertThat(new TapDevices(ip, host).problem()).isEmpty();

        Files.delete(host.resolve("dev/net/tun"));
        assertThat(new TapDevices(ip, host).problem())
                .hasValueSatisfying(p -> assertThat(p).contains("dev/net/tun does not exist", "modprobe tun"));
    }

    @Test
    void anIpThatIsRefusedSaysWhatFailedAndThatTheAgentNeedsCapNetAdmin() throws Exception {
        Path host = StandIns.host(dir);
        TapDevices taps = new TapDevices(StandIns.ip(dir, host), host);
        Files.writeString(dir.resolve("ip.fail"), "tuntap add");

        assertThatThrownBy(() -> taps.create(Tap.forPort(41234)))
                .isInstanceOf(DriverException.class)
                .hasMessage(
                        "cannot create the tap device mf41234: ip tuntap add dev mf41234 mode tap failed (exit 2): "
                                + "RTNETLINK answers: Operation not permitted; the agent needs CAP_NET_ADMIN to manage tap devices: run it as root");
    }

    @Test
    void aTapThatFailsHalfwayIsRemovedAgain() throws Exception {
        Path host = StandIns.host(dir);
        TapDevices taps = new TapDevices(StandIns.ip(dir, host), host);
        Files.writeString(dir.resolve("ip.fail"), "link set");

        assertThatThrownBy(() -> taps.create(Tap.forPort(41234)))
                .isInstanceOf(DriverException.class)
                .hasMessageStartingWith("cannot bring the tap device mf41234 up: ip link set dev mf41234 up failed");

        assertThat(StandIns.ipCalls(dir))
                .containsExactly(
                        "tuntap add dev mf41234 mode tap",
                        "addr add 10.214.132.73/30 dev mf41234",
                        "link set dev mf41234 up",
                        "tuntap del dev mf41234 mode tap");
        assertThat(taps.exists("mf41234")).isFalse();
    }

    @Test
    void aTapStillHeldByAGuestIsNotRemovedAndTheMessageSaysHowToFindTheHolder() throws Exception {
        Path host = StandIns.host(dir);
        TapDevices taps = new TapDevices(StandIns.ip(dir, host), host);
        Tap tap = Tap.forPort(41234);
        taps.create(tap);
        Files.writeString(host.resolve("sys/class/net/mf41234/held"), "");

        assertThatThrownBy(() -> taps.remove(tap))
                .isInstanceOf(DriverException.class)
                .hasMessageContaining(
                        "Device or resource busy", "a process still holds mf41234", "/proc/[0-9]*/fdinfo/");
        assertThat(taps.exists("mf41234")).isTrue();
    }
}
