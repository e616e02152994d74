package io.mayfly.agent.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An instance's network from start to end. The tests named {@code really...} create real tap devices with the
 * host's {@code ip} (root or CAP_NET_ADMIN and /dev/net/tun; skipped without) and remove them afterwards, also
 * when they fail; the others use the stand-in {@code ip} on a stand-in host tree.
 */
class GuestNetworkTest {
    @TempDir
    Path dir;

    private final List<GuestNetwork> opened = new ArrayList<>();
    private final List<Tap> made = new ArrayList<>();

    @AfterEach
    void removeEverything() throws Exception {
        opened.forEach(GuestNetwork::close);
        String ip = VmHost.executable("ip", "/usr/sbin", "/sbin")
                .map(Path::toString)
                .orElse("ip");
        for (Tap tap : made) {
            if (Files.exists(Path.of("/sys/class/net", tap.name()))) {
                HostCommand.run(Duration.ofSeconds(10), List.of(ip, "tuntap", "del", "dev", tap.name(), "mode", "tap"));
            }
        }
    }

    private TapDevices realHost() {
        TapDevices host = new TapDevices();
        assumeTrue(
                host.problem().isEmpty(),
                () -> "this host does not let the tests create taps: "
                        + host.problem().orElseThrow());
        return host;
    }

    private InstanceSpec spec(String id) {
        InstanceSpec spec = StandIns.spec(dir, id, dir.resolve("unikernel.hvt"), null, List.of());
        made.add(Tap.forPort(spec.port()));
        return spec;
    }

    private GuestNetwork open(TapDevices taps, InstanceSpec spec) throws DriverException {
        GuestNetwork network = GuestNetwork.open(taps, spec);
        opened.add(network);
        return network;
    }

    @Test
    void reallyOpeningCreatesTheTapRecordsItAndForwardsTheInstancesPortAndClosingUndoesAll() throws Exception {
        TapDevices taps = realHost();
        InstanceSpec spec = spec("hello-v3-net");
        Tap tap = Tap.forPort(spec.port());

        GuestNetwork network = open(taps, spec);

        assertThat(network.tap()).isEqualTo(tap);
        assertThat(Path.of("/sys/class/net", tap.name())).isDirectory();
        assertThat(InstanceStateFile.readJson(spec.stateDir().resolve(GuestNetwork.FILE), GuestNetwork.State.class))
                .isEqualTo(new GuestNetwork.State(tap, spec.port(), 8080));
        assertThat(network.forwarding()).isTrue();
        assertThat(StandIns.acceptsOnLoopback(spec.port()))
                .as("127.0.0.1:" + spec.port() + " is forwarded")
                .isTrue();
        assertThat(Files.readString(spec.logFile()))
                .contains("mayfly: hello-v3-net is on tap " + tap.name() + ": host "
                        + tap.hostCidr() + ", guest " + tap.guestAddress() + "; 127.0.0.1:" + spec.port()
                        + " is forwarded to "
                        + tap.guestAddress() + ":8080");

        network.close();

        assertThat(Path.of("/sys/class/net", tap.name())).doesNotExist();
        assertThat(spec.stateDir().resolve(GuestNetwork.FILE)).doesNotExist();
        assertThat(StandIns.acceptsOnLoopback(spec.port())).isFalse();
        network.close(); // a second time does nothing
    }

    @Test
    void reallyAnAgentThatGoesAwayLeavesTheTapAndTheNextOneForwardsAgain() throws Exception {
        TapDevices taps = realHost();
        InstanceSpec spec = spec("hello-v3-again");
        GuestNetwork first = open(taps, spec);

        first.detach();

        assertThat(StandIns.acceptsOnLoopback(spec.port()))
                .as("the forwarder ended with the agent")
                .isFalse();
        assertThat(Path.of("/sys/class/net", first.tap().name()))
                .as("the tap stays for the guest")
                .isDirectory();
        GuestNetwork adopted =
                GuestNetwork.adopt(taps, spec.stateDir(), spec.logFile()).orElseThrow();
        opened.add(adopted);
        assertThat(adopted.tap()).isEqualTo(first.tap());
        assertThat(StandIns.acceptsOnLoopback(spec.port())).isTrue();

        adopted.close();

        assertThat(Path.of("/sys/class/net", first.tap().name())).doesNotExist();
    }

    @Test
    void reallyTheTapOfAGuestThatEndedWhileNoAgentWatchedIsRemovedOnRecovery() throws Exception {
        TapDevices taps = realHost();
        InstanceSpec spec = spec("hello-v3-gone");
        open(taps, spec).detach();

        GuestNetwork.removeLeftover(taps, spec.stateDir(), spec.logFile());

        assertThat(Path.of("/sys/class/net", Tap.forPort(spec.port()).name())).doesNotExist();
        assertThat(spec.stateDir().resolve(GuestNetwork.FILE)).doesNotExist();
        assertThat(GuestNetwork.adopt(taps, spec.stateDir(), spec.logFile())).isEmpty();
    }

    @Test
    void reallyAPortTakenInTheMeantimeIsAClearErrorAndLeavesNoTap() throws Exception {
        TapDevices taps = realHost();
        InstanceSpec spec = spec("hello-v3-taken");
        try (ServerSocket thief = new ServerSocket(spec.port(), 1, InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> open(taps, spec))
                    .isInstanceOf(DriverException.class)
                    .hasMessageContaining(
                            "cannot listen on 127.0.0.1:" + spec.port() + ", the port picked for hello-v3-taken");
        }
        assertThat(Path.of("/sys/class/net", Tap.forPort(spec.port()).name())).doesNotExist();
        assertThat(spec.stateDir().resolve(GuestNetwork.FILE)).doesNotExist();
    }

    @Test
    void whenIpFailsTheMessageNamesTheInstanceAndNothingIsLeftBehind() throws Exception {
        Path host = StandIns.host(dir);
        TapDevices taps = new TapDevices(StandIns.ip(dir, host), host);
        Files.writeString(dir.resolve("ip.fail"), "addr add");
        InstanceSpec spec = spec("hello-v3-refused");
        String tap = Tap.forPort(spec.port()).name();

        assertThatThrownBy(() -> open(taps, spec))
                .isInstanceOf(DriverException.class)
                .hasMessageStartingWith("cannot give hello-v3-refused its network: cannot give the tap device " + tap
                        + " the host's address: ip addr add")
                .hasMessageEndingWith(
                        "Operation not permitted; the agent needs CAP_NET_ADMIN to manage tap devices: run it as root");

        assertThat(StandIns.ipCalls(dir)).last().isEqualTo("tuntap del dev " + tap + " mode tap");
        assertThat(taps.exists(tap)).isFalse();
        assertThat(spec.stateDir().resolve(GuestNetwork.FILE)).doesNotExist();
        assertThat(StandIns.acceptsOnLoopback(spec.port())).isFalse();
    }

    @Test
    void aTapThatCannotBeRemovedKeepsItsRecordSoTheNextAgentTriesAgain() throws Exception {
        Path host = StandIns.host(dir);
        TapDevices taps = new TapDevices(StandIns.ip(dir, host), host);
        InstanceSpec spec = spec("hello-v3-held");
        GuestNetwork network = open(taps, spec);
        Files.writeString(
                host.resolve("sys/class/net").resolve(network.tap().name()).resolve("held"), "");

        network.close();

        assertThat(spec.stateDir().resolve(GuestNetwork.FILE)).exists();
        assertThat(Files.readString(spec.logFile()))
                .contains(
                        "mayfly: cannot remove the tap device " + network.tap().name());
        Files.delete(host.resolve("sys/class/net").resolve(network.tap().name()).resolve("held"));
        GuestNetwork.removeLeftover(taps, spec.stateDir(), spec.logFile());
        assertThat(taps.exists(network.tap().name())).isFalse();
        assertThat(spec.stateDir().resolve(GuestNetwork.FILE)).doesNotExist();
    }
}
