package io.mayfly.agent.driver.solo5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.driver.GuestNetwork;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceSpec;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.InstanceStateFile;
import io.mayfly.agent.driver.ProcessStat;
import io.mayfly.agent.driver.StandIns;
import io.mayfly.agent.driver.Tap;
import io.mayfly.agent.driver.TapDevices;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Solo5 tenders are not available where Mayfly is developed: these tests run the driver against a stand-in
 * tender, and against a stand-in {@code ip} on a stand-in host tree (real taps are tested in TapDevicesTest).
 */
class Solo5DriverTest {
    /**
     * Stand-in for the Solo5 tenders (solo5-hvt, solo5-spt). It parses its command line as the real tender does
     * (--mem=MB, module options --net:NAME=IFACE and --block:NAME=FILE, then an optional --, the unikernel and its
     * arguments), records it one argument a line in $0.args, and plays a running guest. Like the real tender it
     * exits 1 with "Exiting on signal 15" on SIGTERM; a unikernel argument --ignore-term makes it ignore SIGTERM,
     * which the real tender never does, so that the SIGKILL fallback can be tested, and --exit-at-once makes the
     * guest end by itself (exit 3) right after it booted. A unikernel file that says test_net plays Solo5's own
     * test_net, which is not MirageOS: any argument but verbose or limit makes it print "Error in command line." and
     * exit 1, as the real one does on an argument it does not know.
     */
    private static final String STAND_IN_TENDER = """
            #!/bin/sh
            prog=${0##*/}
            printf '%s\\n' "$@" > "$0.args"
            while [ $# -gt 0 ]; do
              case "$1" in
                --mem=*) case "${1#--mem=}" in ''|*[!0-9]*) echo "$prog: Malformed argument to --mem" >&2; exit 1;; esac ;;
                --net:?*=?*) ;;
                --block:?*=?*) [ -f "${1#*=}" ] || { echo "$prog: ${1#*=}: No such file or directory" >&2; exit 1; } ;;
                --) shift; break ;;
                -*) echo "$prog: Invalid option: \\`$1'" >&2; exit 1 ;;
                *) break ;;
              esac
              shift
            done
            [ $# -gt 0 ] || { echo "$prog: Missing KERNEL operand" >&2; exit 1; }
            [ -f "$1" ] || { echo "$prog: $1: No such file or directory" >&2; exit 1; }
            kernel=$1; shift
            case " $* " in
              *" --ignore-term "*) trap '' TERM ;;
              *) trap 'echo "$prog: Exiting on signal 15" >&2; exit 1' TERM ;;
            esac
            echo "$prog stand-in: booted $kernel with: $*"
            if grep -q test_net "$kernel"; then
              echo "**** Solo5 standalone test_net ****"
              case "$*" in
                ''|verbose|limit) echo "[service0] Serving ping on 10.0.0.2" ;;
                *) echo "Error in command line."; echo "Usage: test_net [ verbose | limit ]"; exit 1 ;;
              esac
            fi
            case " $* " in *" --exit-at-once "*) exit 3 ;; esac
            while :; do sleep 0.1; done
            """;

    /**
     * Stand-in for solo5-elftool. {@code query-manifest FILE} prints the manifest the test wrote to $0.manifest (the
     * JSON the real one prints); a missing file plays a binary without a manifest, with the real tool's complaint.
     * Its arguments go to $0.args.
     */
    private static final String STAND_IN_ELFTOOL = """
            #!/bin/sh
            printf '%s\\n' "$@" > "$0.args"
            if [ "$1" != query-manifest ] || [ $# -ne 2 ]; then echo "usage: solo5-elftool COMMAND ..." >&2; exit 1; fi
            [ -f "$2" ] || { echo "solo5-elftool: $2: Could not open: No such file or directory" >&2; exit 1; }
            [ -f "$0.manifest" ] || { echo "solo5-elftool: $2: No Solo5 manifest found in executable" >&2; exit 1; }
            cat "$0.manifest"
            """;
    /** What MirageOS declares for a unikernel with a network stack: the device {@code service}. */
    private static final String NETWORK_ONLY = """
            { "type": "solo5.manifest", "version": 1, "devices": [ { "name": "service", "type": "NET_BASIC" } ] }
            """;

    /** A stand-in MirageOS unikernel: its image holds the names of the options its command line takes, as a real one's does. */
    private static final String MIRAGE_UNIKERNEL =
            "\u007fELF stand-in MirageOS unikernel\0ipv4\0ipv4-gateway\0ipv4-only\0";
    /** A stand-in for Solo5's own test_net, which is not MirageOS (the stand-in tender plays it). */
    private static final String TEST_NET = "\u007fELF stand-in test_net";

    @TempDir
    Path dir;

    private Path host;
    private TapDevices taps;
    private Path unikernel;
    private final List<InstanceHandle> started = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        host = StandIns.host(dir);
        taps = StandIns.taps(dir, host);
        unikernel = Files.writeString(dir.resolve("hello.hvt"), MIRAGE_UNIKERNEL);
        for (Solo5Driver.Tender t : Solo5Driver.Tender.values()) StandIns.script(dir, t.command, STAND_IN_TENDER);
        StandIns.script(dir, "solo5-elftool", STAND_IN_ELFTOOL);
        manifest(NETWORK_ONLY);
    }

    private void manifest(String json) throws Exception {
        Files.writeString(dir.resolve("solo5-elftool.manifest"), json);
    }

    @AfterEach
    void stopEverything() {
        started.forEach(h -> h.stop(Duration.ZERO));
    }

    @Test
    void namesAreTheTendersAndAMissingTenderIsUnavailableWithWhereToGetIt() throws Exception {
        assertThat(driver(Solo5Driver.Tender.HVT).name()).isEqualTo("solo5-hvt");
        assertThat(driver(Solo5Driver.Tender.SPT).name()).isEqualTo("solo5-spt");
        Solo5Driver missing = new Solo5Driver(Solo5Driver.Tender.HVT, null, dir.resolve("solo5-elftool"), taps, host);

        assertThat(missing.availability().available()).isFalse();
        assertThat(missing.availability().detail())
                .contains("solo5-hvt not found", "opam install solo5", "github.com/Solo5/solo5");
        assertThatThrownBy(() -> missing.start(spec("hello-v3-none", null)))
                .isInstanceOf(DriverException.class)
                .hasMessageContaining("solo5-hvt not found");
    }

    @Test
    void withoutSolo5ElftoolTheDriverIsUnavailableAndSaysItComesWithSolo5() {
        Solo5Driver noElftool = new Solo5Driver(Solo5Driver.Tender.HVT, dir.resolve("solo5-hvt"), null, taps, host);

        assertThat(noElftool.availability().available()).isFalse();
        assertThat(noElftool.availability().detail())
                .contains(
                        "solo5-elftool not found on PATH or in /usr/local/bin",
                        "reads each unikernel's devices",
                        "opam install solo5");
        assertThatThrownBy(() -> noElftool.start(spec("hello-v3-noelf", null)))
                .isInstanceOf(DriverException.class)
                .hasMessageContaining("solo5-elftool not found");
    }

    @Test
    void withoutTheRightToCreateTapsTheDriverIsUnavailableAndStartSaysWhy() throws Exception {
        StandIns.agentStatus(host, 1000, "0000000000000000", "0000000000000000");
        Solo5Driver driver = driver(Solo5Driver.Tender.SPT);

        assertThat(driver.availability().available()).isFalse();
        assertThat(driver.availability().detail())
                .startsWith("solo5-spt: the agent lacks CAP_NET_ADMIN")
                .contains("run it as root");
        assertThatThrownBy(() -> driver.start(spec("hello-v3-notap", null)))
                .isInstanceOf(DriverException.class)
                .hasMessageContaining("CAP_NET_ADMIN");
        assertThat(dir.resolve("solo5-spt.args")).as("the tender never ran").doesNotExist();
        assertThat(StandIns.ipCalls(dir)).isEmpty();
    }

    @Test
    void hvtNeedsKvmAndSptDoesNot() throws Exception {
        Files.delete(host.resolve("dev/kvm"));

        assertThat(driver(Solo5Driver.Tender.HVT).availability().available()).isFalse();
        assertThat(driver(Solo5Driver.Tender.HVT).availability().detail()).contains("dev/kvm does not exist");
        assertThat(driver(Solo5Driver.Tender.SPT).availability().available()).isTrue();
    }

    @Test
    void startPutsTheGuestOnATapOfItsOwnTellsItItsAddressAndForwardsThePort() throws Exception {
        Solo5Driver driver = driver(Solo5Driver.Tender.HVT);
        assertThat(driver.availability().available()).isTrue();
        InstanceSpec spec = spec("hello-v3-run", null, "--hello=a b");
        Tap tap = Tap.forPort(spec.port());

        InstanceHandle handle = start(driver, spec);

        String log = StandIns.await(spec.logFile(), "stand-in: booted");
        assertThat(Files.readAllLines(dir.resolve("solo5-elftool.args")))
                .containsExactly("query-manifest", unikernel.toString());
        assertThat(StandIns.ipCalls(dir))
                .containsExactly(
                        "tuntap add dev " + tap.name() + " mode tap",
                        "addr add " + tap.hostCidr() + " dev " + tap.name(),
                        "link set dev " + tap.name() + " up");
        assertThat(Files.readAllLines(dir.resolve("solo5-hvt.args")))
                .containsExactly(
                        "--mem=128",
                        "--net:service=" + tap.name(),
                        "--",
                        unikernel.toString(),
                        "--ipv4=" + tap.guestCidr(),
                        "--ipv4-gateway=" + tap.hostAddress(),
                        "--hello=a b");
        assertThat(log)
                .contains(
                        "solo5-hvt stand-in: booted " + unikernel + " with: --ipv4=" + tap.guestCidr(),
                        "mayfly: hello-v3-run is on tap " + tap.name() + ": host " + tap.hostCidr() + ", guest "
                                + tap.guestAddress() + "; 127.0.0.1:" + spec.port() + " is forwarded to "
                                + tap.guestAddress() + ":8080");
        assertThat(StandIns.acceptsOnLoopback(spec.port()))
                .as("the instance's port is forwarded")
                .isTrue();
        InstanceState state = handle.state();
        assertThat(state.driver()).isEqualTo("solo5-hvt");
        assertThat(InstanceStateFile.read(InstanceStateFile.in(spec.stateDir())))
                .isEqualTo(state);
        assertThat(spec.stateDir().resolve(GuestNetwork.FILE)).exists();
        assertThat(ProcessHandle.of(state.pid()).orElseThrow().info().commandLine())
                .hasValueSatisfying(
                        c -> assertThat(c).contains(dir.resolve("solo5-hvt").toString()));
        assertThat(sessionOf(state.pid())).as("its own session").isEqualTo(state.pid());
        assertThat(handle.isAlive()).isTrue();
    }

    @Test
    void stopSendsSigtermAndTheTenderExitsAndItsTapAndForwardGo() throws Exception {
        InstanceSpec spec = spec("hello-v3-stop", null);
        InstanceHandle handle = start(driver(Solo5Driver.Tender.SPT), spec);
        StandIns.await(spec.logFile(), "stand-in: booted");
        long began = System.nanoTime();

        handle.stop(Duration.ofSeconds(10));

        assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(Duration.ofSeconds(3));
        assertThat(handle.isAlive()).isFalse();
        assertThat(handle.exited().get(5, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(Files.readString(spec.logFile()))
                .contains("solo5-spt: Exiting on signal 15")
                .doesNotContain("SIGKILL");
        assertThat(taps.exists(Tap.forPort(spec.port()).name())).isFalse();
        assertThat(StandIns.ipCalls(dir))
                .last()
                .isEqualTo("tuntap del dev " + Tap.forPort(spec.port()).name() + " mode tap");
        assertThat(spec.stateDir().resolve(GuestNetwork.FILE)).doesNotExist();
        assertThat(StandIns.acceptsOnLoopback(spec.port())).isFalse();
    }

    @Test
    void aTenderThatIgnoresSigtermIsKilledOnceTheGraceIsOver() throws Exception {
        InstanceSpec spec = spec("hello-v3-stubborn", null, "--ignore-term");
        InstanceHandle handle = start(driver(Solo5Driver.Tender.HVT), spec);
        StandIns.await(spec.logFile(), "stand-in: booted");
        long began = System.nanoTime();

        handle.stop(Duration.ofMillis(500));

        assertThat(Duration.ofNanos(System.nanoTime() - began)).isGreaterThanOrEqualTo(Duration.ofMillis(500));
        assertThat(handle.isAlive()).isFalse();
        assertThat(ProcessStat.running(handle.state().pid(), handle.state().startTicks()))
                .isFalse();
        assertThat(Files.readString(spec.logFile()))
                .contains("mayfly: hello-v3-stubborn still running; sending SIGKILL")
                .doesNotContain("Exiting on signal");
        assertThat(taps.exists(Tap.forPort(spec.port()).name())).isFalse();
    }

    @Test
    void aGuestThatEndsByItselfTakesItsTapAndForwardWithIt() throws Exception {
        InstanceSpec spec = spec("hello-v3-crash", null, "--exit-at-once");
        InstanceHandle handle = start(driver(Solo5Driver.Tender.HVT), spec);

        assertThat(handle.exited().get(5, TimeUnit.SECONDS)).isEqualTo(3);

        awaitGone(Tap.forPort(spec.port()));
        assertThat(StandIns.acceptsOnLoopback(spec.port())).isFalse();
    }

    @Test
    void theDevicesAreAttachedByTheNamesInTheManifestTheBlockDeviceToAPrivateCopyOfTheInitrd() throws Exception {
        manifest("""
                {"type":"solo5.manifest","version":1,"devices":[{"name":"net0","type":"NET_BASIC"},{"name":"disk","type":"BLOCK_BASIC"}]}
                """);
        Path disk = Files.writeString(dir.resolve("data.img"), "stored, content-addressed bytes");
        InstanceSpec spec = spec("hello-v3-disk", disk);
        Tap tap = Tap.forPort(spec.port());

        InstanceHandle handle = start(driver(Solo5Driver.Tender.HVT), spec);

        StandIns.await(spec.logFile(), "stand-in: booted");
        Path copy = spec.stateDir().toAbsolutePath().resolve("disk.img");
        assertThat(Files.readAllLines(dir.resolve("solo5-hvt.args")))
                .containsExactly(
                        "--mem=128",
                        "--net:net0=" + tap.name(),
                        "--block:disk=" + copy,
                        "--",
                        unikernel.toString(),
                        "--ipv4=" + tap.guestCidr(),
                        "--ipv4-gateway=" + tap.hostAddress());
        assertThat(Files.readString(copy)).isEqualTo("stored, content-addressed bytes");
        assertThat(Files.isSameFile(copy, disk)).isFalse();

        // Once the guest has ended, its copy goes; the stored image stays.
        handle.stop(Duration.ofSeconds(10));
        assertThat(copy).doesNotExist();
        assertThat(disk).exists();
        assertThat(spec.logFile()).exists();
    }

    @Test
    void aSecondNetworkDeviceIsRefusedNamingItBeforeAnythingIsCreated() throws Exception {
        manifest("""
                {"type":"solo5.manifest","version":1,"devices":[{"name":"service","type":"NET_BASIC"},{"name":"private","type":"NET_BASIC"}]}
                """);

        assertRefusedBeforeAnythingIsCreated(
                spec("hello-v3-twonets", null),
                "the unikernel of hello v3 declares 2 network devices "
                        + "(service, private) in its Solo5 manifest; Mayfly gives each instance one network, a tap of its own, and has nothing "
                        + "to attach 'private' to: build the unikernel with a single network device");
    }

    @Test
    void aUnikernelWithoutANetworkDeviceIsRefusedBecauseNothingCouldReachIt() throws Exception {
        manifest("""
                {"type":"solo5.manifest","version":1,"devices":[]}
                """);

        assertRefusedBeforeAnythingIsCreated(
                spec("hello-v3-nonet", null),
                "the unikernel of hello v3 declares no network device "
                        + "(NET_BASIC) in its Solo5 manifest, so nothing could reach it: Mayfly sends every instance HTTP over its network; "
                        + "give it one (MirageOS: a network stack in config.ml)");
    }

    @Test
    void aBlockDeviceWithoutAnInitrdSaysWhatToSetAndAnInitrdWithoutABlockDeviceToo() throws Exception {
        manifest("""
                {"type":"solo5.manifest","version":1,"devices":[{"name":"service","type":"NET_BASIC"},{"name":"storage","type":"BLOCK_BASIC"}]}
                """);
        assertRefusedBeforeAnythingIsCreated(
                spec("hello-v3-nodisk", null),
                "the unikernel of hello v3 declares the block device "
                        + "'storage' in its Solo5 manifest, but the release has no build.initrd to attach to it: set build.initrd to the disk "
                        + "image the build makes (the guest gets a private copy), or build the unikernel without the block device");

        manifest(NETWORK_ONLY);
        Path disk = Files.writeString(dir.resolve("data.img"), "bytes");
        assertRefusedBeforeAnythingIsCreated(
                spec("hello-v3-unused", disk),
                "hello v3 has a build.initrd, but its unikernel declares "
                        + "no block device (BLOCK_BASIC) in its Solo5 manifest to attach it to: remove build.initrd, or give the unikernel a block device");
    }

    @Test
    void aSecondBlockDeviceIsRefusedNamingIt() throws Exception {
        manifest("""
                {"type":"solo5.manifest","version":1,"devices":[{"name":"service","type":"NET_BASIC"},
                 {"name":"storage","type":"BLOCK_BASIC"},{"name":"cache","type":"BLOCK_BASIC"}]}
                """);

        assertRefusedBeforeAnythingIsCreated(
                spec("hello-v3-twodisks", Files.writeString(dir.resolve("data.img"), "bytes")),
                "the unikernel of hello v3 declares 2 block devices (storage, cache) in its Solo5 manifest; Mayfly attaches one, the "
                        + "release's build.initrd, and has nothing to attach 'cache' to: build the unikernel with one block device at most");
    }

    @Test
    void aDeviceOfATypeMayflyDoesNotKnowIsRefusedNamingDeviceAndType() throws Exception {
        manifest("""
                {"type":"solo5.manifest","version":1,"devices":[{"name":"service","type":"NET_BASIC"},{"name":"gpu","type":"PCI_BASIC"}]}
                """);

        assertRefusedBeforeAnythingIsCreated(
                spec("hello-v3-pci", null),
                "the unikernel of hello v3 declares the device 'gpu' of type "
                        + "PCI_BASIC in its Solo5 manifest; Mayfly attaches only NET_BASIC and BLOCK_BASIC devices: build the unikernel without it");
    }

    @Test
    void anArtifactWithoutAManifestIsNotASolo5UnikernelAndTheMessageSaysWhatElftoolSaid() throws Exception {
        Files.delete(dir.resolve("solo5-elftool.manifest"));

        assertRefusedBeforeAnythingIsCreated(
                spec("hello-v3-elf", null),
                "solo5-elftool query-manifest " + unikernel + " failed (exit 1): "
                        + "solo5-elftool: " + unikernel
                        + ": No Solo5 manifest found in executable; the artifact of hello v3 must be a Solo5 "
                        + "unikernel for this tender (MirageOS: mirage configure -t hvt or -t spt)");
    }

    @Test
    void elftoolOutputThatIsNotAManifestIsAClearError() throws Exception {
        manifest("Manifest contains 2 entries.\n");

        assertThatThrownBy(() -> driver(Solo5Driver.Tender.HVT).start(spec("hello-v3-garbled", null)))
                .isInstanceOf(DriverException.class)
                .hasMessageStartingWith("solo5-elftool query-manifest " + unikernel
                        + " printed no Solo5 manifest Mayfly can read for hello v3");

        manifest("""
                {"type":"solo5.manifest","version":2,"devices":[]}
                """);
        assertThatThrownBy(() -> driver(Solo5Driver.Tender.HVT).start(spec("hello-v3-v2", null)))
                .isInstanceOf(DriverException.class)
                .hasMessageContaining("its version is 2; Mayfly reads version 1");
    }

    @Test
    void aMissingArtifactIsADriverExceptionThatSaysWhatToDo() throws Exception {
        Files.delete(unikernel);

        assertThatThrownBy(() -> driver(Solo5Driver.Tender.HVT).start(spec("hello-v3-gone", null)))
                .isInstanceOf(DriverException.class)
                .hasMessage("the artifact of hello v3 is missing: " + unikernel
                        + " is not a file; push the app again to rebuild it");
        assertThat(StandIns.ipCalls(dir)).isEmpty();
    }

    @Test
    void runArgsThatSetTheGuestsAddressThemselvesAreRefusedBeforeAnythingIsCreated() {
        assertThatThrownBy(() -> driver(Solo5Driver.Tender.HVT).start(spec("hello-v3-own", null, "--ipv4=10.0.0.2/24")))
                .isInstanceOf(DriverException.class)
                .hasMessage(
                        "run.args of hello v3 sets --ipv4=10.0.0.2/24, but Mayfly gives each Solo5 guest its own address and "
                                + "gateway, on a tap of its own: remove it from run.args, or pass the guest's own with --ipv4={cidr} and "
                                + "--ipv4-gateway={gateway}");
        assertThat(dir.resolve("solo5-hvt.args")).doesNotExist();
    }

    @Test
    void placeholdersPassTheGuestItsAddressWhereItTakesItAndNothingIsAddedBesideThem() throws Exception {
        InstanceSpec spec = spec(
                "hello-v3-placed",
                null,
                "--ipv4={cidr}",
                "--ipv4-gateway={gateway}",
                "--listen={ipv4}:{port}",
                "--netmask={netmask}");
        Tap tap = Tap.forPort(spec.port());

        start(driver(Solo5Driver.Tender.SPT), spec);

        StandIns.await(spec.logFile(), "stand-in: booted");
        assertThat(Files.readAllLines(dir.resolve("solo5-spt.args")))
                .containsExactly(
                        "--mem=128",
                        "--net:service=" + tap.name(),
                        "--",
                        unikernel.toString(),
                        "--ipv4=" + tap.guestCidr(),
                        "--ipv4-gateway=" + tap.hostAddress(),
                        "--listen=" + tap.guestAddress() + ":8080",
                        "--netmask=255.255.255.252");
        assertThat(driver(Solo5Driver.Tender.SPT).ownPlaceholders())
                .containsExactlyInAnyOrder("ipv4", "cidr", "netmask", "gateway", "port");
    }

    @Test
    void aUnikernelThatIsNotMirageOsGetsOnlyItsRunArgsOnItsNetworkDeviceOfAnyName() throws Exception {
        manifest("""
                { "version": 1, "devices": [ { "name": "service0", "type": "NET_BASIC" } ] }
                """);
        unikernel = Files.writeString(dir.resolve("test_net.spt"), TEST_NET);
        InstanceSpec bare = spec("testnet-v3-bare", null);
        InstanceSpec verbose = spec("testnet-v3-verbose", null, "verbose");

        InstanceHandle first = start(driver(Solo5Driver.Tender.SPT), bare);
        String log = StandIns.await(bare.logFile(), "Serving ping");
        assertThat(Files.readAllLines(dir.resolve("solo5-spt.args")))
                .containsExactly(
                        "--mem=128",
                        "--net:service0=" + Tap.forPort(bare.port()).name(),
                        "--",
                        unikernel.toString());
        assertThat(log)
                .contains(
                        "mayfly: the unikernel of hello v3 is not told its address: run.args pass none ({cidr}, {ipv4}, "
                                + "{netmask}, {gateway}) and it does not take MirageOS's --ipv4 and --ipv4-gateway; it is "
                                + Tap.forPort(bare.port()).guestCidr())
                .doesNotContain("Error in command line");

        InstanceHandle second = start(driver(Solo5Driver.Tender.SPT), verbose);
        StandIns.await(verbose.logFile(), "Serving ping");
        assertThat(Files.readAllLines(dir.resolve("solo5-spt.args")))
                .containsExactly(
                        "--mem=128",
                        "--net:service0=" + Tap.forPort(verbose.port()).name(),
                        "--",
                        unikernel.toString(),
                        "verbose");
        Thread.sleep(300);
        assertThat(first.isAlive()).isTrue();
        assertThat(second.isAlive()).isTrue();
    }

    @Test
    void theTestNetStandInRejectsMirageOsAddressArgumentsAsTheRealOneDoes() throws Exception {
        unikernel = Files.writeString(dir.resolve("test_net.spt"), TEST_NET);
        Process tender = new ProcessBuilder(
                        dir.resolve("solo5-spt").toString(),
                        "--mem=64",
                        "--net:service0=mf1",
                        "--",
                        unikernel.toString(),
                        "--ipv4=10.212.0.2/30",
                        "--ipv4-gateway=10.212.0.1")
                .redirectErrorStream(true)
                .start();

        String out = new String(tender.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(tender.waitFor()).isEqualTo(1);
        assertThat(out).contains("Error in command line.");
    }

    @Test
    void aRestartedAgentReadoptsTheRunningTenderForwardsAgainAndCanStopIt() throws Exception {
        InstanceSpec spec = spec("hello-v3-adopt", null);
        InstanceHandle first = start(driver(Solo5Driver.Tender.HVT), spec);
        StandIns.await(spec.logFile(), "stand-in: booted");
        InstanceState persisted = InstanceStateFile.read(InstanceStateFile.in(spec.stateDir()));
        first.detach(); // the agent goes away; its forwarder with it

        assertThat(StandIns.acceptsOnLoopback(spec.port())).isFalse();
        InstanceHandle adopted =
                driver(Solo5Driver.Tender.HVT).recover(persisted).orElseThrow();

        assertThat(adopted.state().pid()).isEqualTo(first.state().pid());
        assertThat(adopted.isAlive()).isTrue();
        assertThat(StandIns.acceptsOnLoopback(spec.port()))
                .as("forwarded again")
                .isTrue();
        assertThat(driver(Solo5Driver.Tender.SPT).recover(persisted))
                .as("another driver's instance")
                .isEmpty();
        adopted.stop(Duration.ofSeconds(5));
        assertThat(adopted.exited().get(5, TimeUnit.SECONDS)).isEqualTo(-1);
        assertThat(first.exited().get(5, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(taps.exists(Tap.forPort(spec.port()).name())).isFalse();
        assertThat(driver(Solo5Driver.Tender.HVT).recover(persisted))
                .as("a stopped instance")
                .isEmpty();
    }

    @Test
    void theTapOfAGuestThatEndedWhileNoAgentWatchedIsRemovedOnRecover() throws Exception {
        InstanceSpec spec = spec("hello-v3-orphan", null);
        InstanceHandle first = start(driver(Solo5Driver.Tender.HVT), spec);
        StandIns.await(spec.logFile(), "stand-in: booted");
        InstanceState persisted = first.state();
        first.detach();
        ProcessHandle.of(persisted.pid()).orElseThrow().destroyForcibly();
        first.exited().get(5, TimeUnit.SECONDS);
        assertThat(taps.exists(Tap.forPort(spec.port()).name()))
                .as("nobody watched it end")
                .isTrue();

        assertThat(driver(Solo5Driver.Tender.HVT).recover(persisted)).isEmpty();

        assertThat(taps.exists(Tap.forPort(spec.port()).name())).isFalse();
        assertThat(spec.stateDir().resolve(GuestNetwork.FILE)).doesNotExist();
    }

    @Test
    void recoverFindsNothingWhenThePidNowBelongsToAnotherProcessAndLeavesATapInUseAlone() throws Exception {
        InstanceSpec spec = spec("hello-v3-reuse", null);
        InstanceHandle handle = start(driver(Solo5Driver.Tender.HVT), spec);
        String tap = Tap.forPort(spec.port()).name();
        Files.writeString(
                host.resolve("sys/class/net").resolve(tap).resolve("held"), ""); // as the running tender holds it
        InstanceState s = handle.state();
        InstanceState reused = new InstanceState(
                s.id(),
                s.app(),
                s.release(),
                s.driver(),
                s.pid(),
                s.startTicks() + 1,
                s.port(),
                s.logFile(),
                s.stateDir(),
                s.startedAt());

        assertThat(driver(Solo5Driver.Tender.HVT).recover(reused)).isEmpty();
        assertThat(taps.exists(tap))
                .as("ip refuses to remove a tap that a process holds")
                .isTrue();
        assertThat(driver(Solo5Driver.Tender.HVT).recover(s)).isPresent();
        Files.delete(host.resolve("sys/class/net").resolve(tap).resolve("held"));
    }

    private Solo5Driver driver(Solo5Driver.Tender tender) {
        return new Solo5Driver(tender, dir.resolve(tender.command), dir.resolve("solo5-elftool"), taps, host);
    }

    private void assertRefusedBeforeAnythingIsCreated(InstanceSpec spec, String message) throws Exception {
        assertThatThrownBy(() -> driver(Solo5Driver.Tender.HVT).start(spec))
                .isInstanceOf(DriverException.class)
                .hasMessage(message);
        assertThat(StandIns.ipCalls(dir)).as("no tap was created").isEmpty();
        assertThat(dir.resolve("solo5-hvt.args")).as("the tender never ran").doesNotExist();
        assertThat(StandIns.acceptsOnLoopback(spec.port())).isFalse();
    }

    private InstanceSpec spec(String id, Path initrd, String... args) {
        return StandIns.spec(dir, id, unikernel, initrd, List.of(args));
    }

    private InstanceHandle start(Solo5Driver driver, InstanceSpec spec) throws Exception {
        InstanceHandle handle = driver.start(spec);
        started.add(handle);
        return handle;
    }

    /** Waits up to 5 s for {@code tap} to be removed: after a guest's own exit that happens on a thread of its own. */
    private void awaitGone(Tap tap) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (taps.exists(tap.name()) && System.nanoTime() < end) Thread.sleep(20);
        assertThat(taps.exists(tap.name())).as(tap.name() + " removed").isFalse();
    }

    private static long sessionOf(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[3]);
    }
}
