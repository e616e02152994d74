package io.mayfly.agent.driver.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.driver.GuestNetwork;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceSpec;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.InstanceStateFile;
import io.mayfly.agent.driver.StandIns;
import io.mayfly.agent.driver.Tap;
import io.mayfly.agent.driver.TapDevices;
import io.mayfly.agent.driver.firecracker.StandInFirecrackerApi.Guest;
import io.mayfly.agent.driver.firecracker.StandInFirecrackerApi.Refusal;
import io.mayfly.agent.driver.firecracker.StandInFirecrackerApi.Request;
import io.mayfly.wire.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Firecracker is not available where Mayfly is developed: these tests run the driver against stand-ins, a
 * firecracker script and an API server the test binds on its socket ({@link StandInFirecrackerApi}), with a
 * stand-in {@code ip} on a stand-in host tree. The API calls expected are those of Firecracker's getting-started
 * guide and swagger (src/firecracker/swagger/firecracker.yaml).
 */
class FirecrackerDriverTest {
    /**
     * Stand-in for the firecracker binary. Checks that it got the real command line (--api-sock PATH), records its
     * arguments in $0.args and its pid in $0.pid, then plays a VMM whose API the test serves: it waits for
     * InstanceStart (./instance-start), prints a boot line on its stdout (Firecracker's serial console), and runs
     * until the guest has taken Ctrl-Alt-Del (./ctrl-alt-del), when it exits 0 as Firecracker does after the guest
     * resets. On SIGTERM, which kills the real one, it says so and exits 143. When the test wrote $0.crash, it fails
     * at once with that text, as Firecracker does when it cannot start (e.g. without KVM).
     */
    private static final String STAND_IN_FIRECRACKER = """
            #!/bin/sh
            printf '%s\\n' "$@" > "$0.args"
            echo $$ > "$0.pid"
            if [ $# -ne 2 ] || [ "$1" != --api-sock ]; then
              echo "firecracker stand-in: expected --api-sock PATH" >&2; exit 1
            fi
            if [ -e "$0.crash" ]; then echo "firecracker stand-in: $(cat "$0.crash")" >&2; exit 1; fi
            trap 'echo "firecracker stand-in: got SIGTERM" >&2; exit 143' TERM
            echo "firecracker stand-in: running, API on $2"
            while [ ! -e instance-start ]; do sleep 0.05; done
            echo "firecracker stand-in: guest booted"
            while [ ! -e ctrl-alt-del ]; do sleep 0.1; done
            echo "firecracker stand-in: guest reset on Ctrl-Alt-Del, exiting"
            exit 0
            """;

    @TempDir
    Path dir;

    private Path host;
    private TapDevices taps;
    private Path firecracker;
    private Path kernel;
    private final List<InstanceHandle> started = new ArrayList<>();
    private final List<StandInFirecrackerApi> apis = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        host = StandIns.host(dir);
        taps = StandIns.taps(dir, host);
        firecracker = StandIns.script(dir, "firecracker", STAND_IN_FIRECRACKER);
        kernel = Files.writeString(dir.resolve("vmlinux"), "\u007fELF stand-in kernel");
    }

    @AfterEach
    void stopEverything() throws IOException {
        started.forEach(h -> h.stop(Duration.ZERO));
        for (StandInFirecrackerApi api : apis) api.close();
    }

    @Test
    void aMissingBinaryIsUnavailableNamingTheBinaryAndWhereToGetIt() {
        FirecrackerDriver missing = new FirecrackerDriver(null, taps, host, FirecrackerDriver.SOCKET_WAIT);

        assertThat(missing.name()).isEqualTo("firecracker");
        assertThat(missing.availability().available()).isFalse();
        assertThat(missing.availability().detail())
                .contains(
                        "firecracker not found",
                        "not packaged in Debian",
                        "github.com/firecracker-microvm/firecracker/releases",
                        "/usr/local/bin/firecracker");
        assertThatThrownBy(() -> missing.start(spec("hello-v3-none", null)))
                .isInstanceOf(DriverException.class)
                .hasMessageContaining("firecracker not found");
    }

    @Test
    void withoutTheRightToCreateTapsOrWithoutKvmItIsUnavailable() throws Exception {
        assertThat(driver().availability().available()).isTrue();
        StandIns.agentStatus(host, 1000, "0000000000000000", "0000000000000000");
        assertThat(driver().availability().detail()).startsWith("firecracker: the agent lacks CAP_NET_ADMIN");
        assertThatThrownBy(() -> driver().start(spec("hello-v3-notap", null)))
                .isInstanceOf(DriverException.class)
                .hasMessageContaining("CAP_NET_ADMIN");
        assertThat(StandIns.ipCalls(dir)).isEmpty();

        Files.delete(host.resolve("dev/kvm"));
        assertThat(driver().availability().detail()).contains("dev/kvm does not exist");
    }

    @Test
    void startConfiguresTheMicroVmThroughTheApiCallByCallThenBootsItsKernelWithItsInitramfs() throws Exception {
        Path initrd = initramfs();
        InstanceSpec spec = spec("hello-v3-run", initrd, "init=/hello");
        Tap tap = Tap.forPort(spec.port());

        Booted booted = boot(spec, Guest.OBEYS);

        String log = StandIns.await(spec.logFile(), "guest booted");
        Path socket = spec.stateDir().toAbsolutePath().resolve("fc.sock");
        assertThat(Files.readAllLines(dir.resolve("firecracker.args")))
                .containsExactly("--api-sock", socket.toString());
        assertCalls(
                booted.api().requests(),
                "PUT /machine-config",
                "{\"vcpu_count\": 2, \"mem_size_mib\": 128}",
                "PUT /boot-source",
                "{\"kernel_image_path\": \"" + kernel + "\", \"initrd_path\": \"" + initrd + "\", \"boot_args\": "
                        + "\"console=ttyS0 reboot=k panic=1 pci=off ip=" + tap.guestAddress() + "::" + tap.hostAddress()
                        + ":255.255.255.252::eth0:off init=/hello\"}",
                "PUT /network-interfaces/eth0",
                "{\"iface_id\": \"eth0\", \"host_dev_name\": \"" + tap.name() + "\"}",
                "PUT /actions",
                "{\"action_type\": \"InstanceStart\"}");
        assertThat(spec.stateDir().resolve("rootfs.img"))
                .as("no root drive beside an initramfs")
                .doesNotExist();
        for (Request r : booted.api().requests()) {
            assertThat(r.headers())
                    .containsEntry("content-type", "application/json")
                    .containsEntry(
                            "content-length", Integer.toString(r.body().getBytes(StandardCharsets.UTF_8).length));
        }
        assertThat(StandIns.ipCalls(dir))
                .containsExactly(
                        "tuntap add dev " + tap.name() + " mode tap",
                        "addr add " + tap.hostCidr() + " dev " + tap.name(),
                        "link set dev " + tap.name() + " up");
        assertThat(log)
                .contains(
                        "mayfly: the initrd of hello-v3-run is an initramfs (cpio), which the kernel unpacks as its root "
                                + "filesystem: " + initrd,
                        "mayfly: starting hello-v3-run: " + firecracker + " --api-sock " + socket,
                        "mayfly: hello-v3-run is on tap " + tap.name());
        assertThat(StandIns.acceptsOnLoopback(spec.port()))
                .as("the instance's port is forwarded")
                .isTrue();
        assertThat(booted.handle().state().driver()).isEqualTo("firecracker");
        assertThat(InstanceStateFile.read(InstanceStateFile.in(spec.stateDir())))
                .isEqualTo(booted.handle().state());
        assertThat(booted.handle().isAlive()).isTrue();
    }

    @Test
    void aDiskImageForAnInitrdIsTheRootDriveAttachedAfterTheBootSourceAndBeforeTheNetwork() throws Exception {
        Path image = ext4Image();
        InstanceSpec spec = spec("hello-v3-rootfs", image, "init=/hello");
        Tap tap = Tap.forPort(spec.port());

        Booted booted = boot(spec, Guest.OBEYS);

        String log = StandIns.await(spec.logFile(), "guest booted");
        Path copy = spec.stateDir().toAbsolutePath().resolve("rootfs.img");
        assertCalls(
                booted.api().requests(),
                "PUT /machine-config",
                "{\"vcpu_count\": 2, \"mem_size_mib\": 128}",
                "PUT /boot-source",
                "{\"kernel_image_path\": \"" + kernel + "\", \"boot_args\": \"console=ttyS0 reboot=k panic=1 pci=off "
                        + "ip=" + tap.guestAddress() + "::" + tap.hostAddress()
                        + ":255.255.255.252::eth0:off root=/dev/vda rw init=/hello\"}",
                "PUT /drives/rootfs",
                "{\"drive_id\": \"rootfs\", \"path_on_host\": \"" + copy + "\", \"is_root_device\": true, "
                        + "\"is_read_only\": false}",
                "PUT /network-interfaces/eth0",
                "{\"iface_id\": \"eth0\", \"host_dev_name\": \"" + tap.name() + "\"}",
                "PUT /actions",
                "{\"action_type\": \"InstanceStart\"}");
        assertThat(log)
                .contains(
                        "mayfly: the initrd of hello-v3-rootfs is not an initramfs (a cpio archive, compressed or not), so it "
                                + "is the guest's root drive /dev/vda: " + copy + ", a private copy of " + image);
        assertThat(booted.handle().isAlive()).isTrue();
    }

    @Test
    void theRootDriveIsAPrivateCopyTheGuestWritesToWhileTheStoredImageStaysAsItWas() throws Exception {
        Path image = ext4Image();
        byte[] stored = Files.readAllBytes(image);
        InstanceSpec spec = spec("hello-v3-copy", image);

        Booted booted = boot(spec, Guest.OBEYS);

        Path copy = Path.of(Json.MAPPER
                .readTree(booted.api().requests().get(2).body())
                .get("path_on_host")
                .asText());
        assertThat(copy.getParent()).isEqualTo(spec.stateDir().toAbsolutePath());
        assertThat(Files.isSameFile(copy, image)).isFalse();
        assertThat(Files.readAllBytes(copy)).isEqualTo(stored);
        Files.writeString(copy, "what the guest wrote");
        assertThat(Files.readAllBytes(image))
                .as("the stored, content-addressed image")
                .isEqualTo(stored);

        booted.handle().stop(Duration.ofSeconds(10));
        assertThat(copy).as("the copy goes with the guest").doesNotExist();
        assertThat(Files.readAllBytes(image)).isEqualTo(stored);
    }

    @Test
    void runArgsWithARootOfTheirOwnGetNeitherMayflysRootNorFirecrackersOne() throws Exception {
        InstanceSpec spec = spec("hello-v3-ownroot", ext4Image(), "root=/dev/vda1", "ro");

        Booted booted = boot(spec, Guest.OBEYS);

        JsonNode bootSource =
                Json.MAPPER.readTree(booted.api().requests().get(1).body());
        assertThat(bootSource.get("boot_args").asText())
                .doesNotContain("/dev/vda rw")
                .endsWith(":255.255.255.252::eth0:off root=/dev/vda1 ro");
        JsonNode drive = Json.MAPPER.readTree(booted.api().requests().get(2).body());
        assertThat(drive.get("is_root_device").asBoolean())
                .as("Firecracker appends root=/dev/vda for a root device")
                .isFalse();
        assertThat(drive.get("path_on_host").asText())
                .isEqualTo(
                        spec.stateDir().toAbsolutePath().resolve("rootfs.img").toString());
    }

    @Test
    void aRootDriveFirecrackerRefusesStopsTheVmmAndRemovesItsNetworkAndTheCopy() throws Exception {
        InstanceSpec spec = spec("hello-v3-nodrive", ext4Image());
        Path copy = spec.stateDir().toAbsolutePath().resolve("rootfs.img");
        CompletableFuture<StandInFirecrackerApi> api = serveApiOnceFirecrackerRuns(
                spec,
                Guest.OBEYS,
                new Refusal(
                        "/drives/rootfs",
                        400,
                        "{\"fault_message\": \"Unable to create the block device: BackingFile(Os { code: 13, "
                                + "kind: PermissionDenied, message: \\\"Permission denied\\\" }, \\\"" + copy
                                + "\\\")\"}"));

        assertThatThrownBy(() -> driver().start(spec))
                .isInstanceOf(DriverException.class)
                .hasMessage(
                        "Firecracker refused PUT /drives/rootfs for hello-v3-nodrive (HTTP 400): Unable to create the block device: "
                                + "BackingFile(Os { code: 13, kind: PermissionDenied, message: \"Permission denied\" }, \""
                                + copy + "\"); "
                                + "the microVM was stopped");

        assertThat(api.get(5, TimeUnit.SECONDS).requests())
                .extracting(r -> r.method() + " " + r.path())
                .containsExactly("PUT /machine-config", "PUT /boot-source", "PUT /drives/rootfs");
        assertNothingLeftBehind(spec);
        assertThat(copy).as("the copy no guest will use").doesNotExist();
    }

    @Test
    void withoutAnInitrdTheBootSourceHasNoInitrdPathAndThereIsNoDrive() throws Exception {
        InstanceSpec spec = spec("hello-v3-noinitrd", null);

        Booted booted = boot(spec, Guest.OBEYS);

        JsonNode bootSource =
                Json.MAPPER.readTree(booted.api().requests().get(1).body());
        assertThat(bootSource.has("initrd_path")).isFalse();
        assertThat(bootSource.get("boot_args").asText()).startsWith("console=ttyS0 reboot=k panic=1 pci=off ip=");
        assertThat(booted.api().requests()).noneMatch(r -> r.path().startsWith("/drives"));
    }

    @Test
    void aStepFirecrackerRefusesStopsTheVmmAndRemovesItsNetworkWithFirecrackersOwnWords() throws Exception {
        InstanceSpec spec = spec("hello-v3-refused", null);
        CompletableFuture<StandInFirecrackerApi> api = serveApiOnceFirecrackerRuns(
                spec,
                Guest.OBEYS,
                new Refusal(
                        "/network-interfaces/eth0",
                        400,
                        "{\"fault_message\": \"Open tap device failed: Error while creating ifreq "
                                + "structure: Invalid argument (os error 22).\"}"));

        assertThatThrownBy(() -> driver().start(spec))
                .isInstanceOf(DriverException.class)
                .hasMessage(
                        "Firecracker refused PUT /network-interfaces/eth0 for hello-v3-refused (HTTP 400): Open tap device failed: "
                                + "Error while creating ifreq structure: Invalid argument (os error 22).; the microVM was stopped");

        assertThat(api.get(5, TimeUnit.SECONDS).requests())
                .extracting(r -> r.method() + " " + r.path())
                .as("nothing after the refusal, not even Ctrl-Alt-Del")
                .containsExactly("PUT /machine-config", "PUT /boot-source", "PUT /network-interfaces/eth0");
        assertNothingLeftBehind(spec);
    }

    @Test
    void firecrackerThatNeverOpensItsSocketIsStoppedOnceTheWaitIsOver() throws Exception {
        InstanceSpec spec = spec("hello-v3-nosocket", null);
        FirecrackerDriver driver = new FirecrackerDriver(firecracker, taps, host, Duration.ofMillis(700));

        assertThatThrownBy(() -> driver.start(spec))
                .isInstanceOf(DriverException.class)
                .hasMessage("firecracker did not open its API socket "
                        + spec.stateDir().toAbsolutePath().resolve("fc.sock")
                        + " within 700 ms; it was stopped, and its output is in " + spec.logFile());

        assertNothingLeftBehind(spec);
        assertThat(Files.readString(spec.logFile())).contains("firecracker stand-in: got SIGTERM");
    }

    @Test
    void firecrackerThatExitsAtOnceIsReportedWithWhereItsOutputIs() throws Exception {
        Files.writeString(
                dir.resolve("firecracker.crash"),
                "Error creating the Kvm object: No such file or directory (os error 2)");
        InstanceSpec spec = spec("hello-v3-crash", null);

        assertThatThrownBy(() -> driver().start(spec))
                .isInstanceOf(DriverException.class)
                .hasMessage("firecracker exited with code 1 before it opened its API socket "
                        + spec.stateDir().toAbsolutePath().resolve("fc.sock")
                        + "; it was stopped, and its output is in " + spec.logFile());

        assertThat(Files.readString(spec.logFile())).contains("firecracker stand-in: Error creating the Kvm object");
        assertNothingLeftBehind(spec);
    }

    @Test
    void stopSendsCtrlAltDelOverTheApiSocketAndAGuestThatTakesItEndsFirecrackerAndItsNetwork() throws Exception {
        InstanceSpec spec = spec("hello-v3-cad", null);
        Booted booted = boot(spec, Guest.OBEYS);

        booted.handle().stop(Duration.ofSeconds(10));

        assertThat(booted.handle().exited().get(5, TimeUnit.SECONDS)).isZero();
        assertThat(booted.api().requests()).hasSize(5);
        Request last = booted.api().requests().getLast();
        assertThat(last.method() + " " + last.path()).isEqualTo("PUT /actions");
        assertThat(Json.MAPPER.readTree(last.body()))
                .isEqualTo(Json.MAPPER.readTree("{\"action_type\": \"SendCtrlAltDel\"}"));
        assertThat(Files.readString(spec.logFile()))
                .contains("guest reset on Ctrl-Alt-Del")
                .doesNotContain("SIGTERM");
        assertNothingLeftBehind(spec);
    }

    @Test
    void whenTheGuestIgnoresCtrlAltDelFirecrackerGetsSigtermAfterTheGrace() throws Exception {
        InstanceSpec spec = spec("hello-v3-deaf", null);
        Booted booted = boot(spec, Guest.IGNORES);
        long began = System.nanoTime();

        booted.handle().stop(Duration.ofMillis(600));

        assertThat(Duration.ofNanos(System.nanoTime() - began)).isGreaterThanOrEqualTo(Duration.ofMillis(600));
        assertThat(booted.handle().exited().get(5, TimeUnit.SECONDS)).isEqualTo(143);
        assertThat(booted.api().requests().getLast().body()).contains("SendCtrlAltDel");
        assertThat(Files.readString(spec.logFile()))
                .contains(
                        "did not stop within 600 ms of the request; sending SIGTERM",
                        "firecracker stand-in: got SIGTERM");
        assertNothingLeftBehind(spec);
    }

    @Test
    void anApiThatIsGoneByTheTimeOfTheStopMeansSigtermAtOnce() throws Exception {
        InstanceSpec spec = spec("hello-v3-nosock", null);
        Booted booted = boot(spec, Guest.OBEYS);
        booted.api().close();
        Files.delete(spec.stateDir().resolve("fc.sock"));
        long began = System.nanoTime();

        booted.handle().stop(Duration.ofSeconds(10));

        assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(Duration.ofSeconds(3));
        assertThat(booted.handle().exited().get(5, TimeUnit.SECONDS)).isEqualTo(143);
        assertThat(Files.readString(spec.logFile()))
                .contains("could not ask hello-v3-nosock to stop", "firecracker stand-in: got SIGTERM");
    }

    @Test
    void aWedgedApiCostsNoMoreThanItsTimeoutBeforeSigterm() throws Exception {
        InstanceSpec spec = spec("hello-v3-wedged", null);
        Booted booted = boot(spec, Guest.WEDGED);
        long began = System.nanoTime();

        booted.handle().stop(Duration.ofSeconds(30));

        assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(FirecrackerApi.TIMEOUT.plusSeconds(3));
        assertThat(booted.api().requests().getLast().body()).contains("SendCtrlAltDel");
        assertThat(booted.handle().exited().get(5, TimeUnit.SECONDS)).isEqualTo(143);
        assertThat(Files.readString(spec.logFile())).contains("no answer from Firecracker's API");
    }

    @Test
    void aRestartedAgentReadoptsFirecrackerForwardsAgainAndStopsItThroughTheApi() throws Exception {
        InstanceSpec spec = spec("hello-v3-adopt", null);
        Booted booted = boot(spec, Guest.OBEYS);
        InstanceState persisted = InstanceStateFile.read(InstanceStateFile.in(spec.stateDir()));
        booted.handle().detach(); // the agent goes away; its forwarder with it
        assertThat(StandIns.acceptsOnLoopback(spec.port())).isFalse();

        InstanceHandle adopted = driver().recover(persisted).orElseThrow();

        assertThat(adopted.state().pid()).isEqualTo(booted.handle().state().pid());
        assertThat(adopted.isAlive()).isTrue();
        assertThat(StandIns.acceptsOnLoopback(spec.port()))
                .as("forwarded again")
                .isTrue();
        adopted.stop(Duration.ofSeconds(10));
        assertThat(adopted.exited().get(5, TimeUnit.SECONDS)).isEqualTo(-1);
        assertThat(booted.handle().exited().get(5, TimeUnit.SECONDS)).isZero();
        assertThat(booted.api().requests().getLast().body()).contains("SendCtrlAltDel");
        assertNothingLeftBehind(spec);
        assertThat(driver().recover(persisted)).as("a stopped instance").isEmpty();
    }

    @Test
    void aMissingKernelIsADriverException() throws Exception {
        Files.delete(kernel);

        assertThatThrownBy(() -> driver().start(spec("hello-v3-gone", null)))
                .isInstanceOf(DriverException.class)
                .hasMessageContaining("the artifact of hello v3 is missing: " + kernel);
        assertThat(dir.resolve("firecracker.args")).doesNotExist();
        assertThat(StandIns.ipCalls(dir)).isEmpty();
    }

    @Test
    void runArgsThatSetTheGuestsAddressThemselvesAreRefused() {
        assertThatThrownBy(() ->
                        driver().start(spec("hello-v3-ip", null, "ip=10.0.0.2::10.0.0.1:255.255.255.0::eth0:off")))
                .isInstanceOf(DriverException.class)
                .hasMessage(
                        "run.args of hello v3 sets ip=10.0.0.2::10.0.0.1:255.255.255.0::eth0:off, but Mayfly gives each Firecracker "
                                + "guest its own address on the kernel command line (ip=, on a tap of its own): remove it from run.args");
        assertThat(dir.resolve("firecracker.args")).doesNotExist();
    }

    @Test
    void anApiSocketPathTooLongForAUnixSocketIsRefusedWithWhatToDo() throws Exception {
        InstanceSpec spec = spec("hello-v3-" + "x".repeat(120), null);

        assertThatThrownBy(() -> driver().start(spec))
                .isInstanceOf(DriverException.class)
                .hasMessageContaining(
                        "is longer than the 107 bytes a unix socket allows; move the agent's data directory to a shorter path");
        assertThat(StandIns.ipCalls(dir)).isEmpty();
    }

    private record Booted(InstanceHandle handle, StandInFirecrackerApi api) {}

    /** A stand-in initramfs: the header of a newc cpio archive, then anything. */
    private Path initramfs() throws IOException {
        return Files.writeString(dir.resolve("initramfs.cpio"), "070701 stand-in initramfs");
    }

    /** A stand-in root filesystem image: zeros but for ext4's magic, 0xEF53 at offset 1080 (the superblock's s_magic). */
    private Path ext4Image() throws IOException {
        ByteBuffer image = ByteBuffer.allocate(64 * 1024).order(ByteOrder.LITTLE_ENDIAN);
        image.putShort(1080, (short) 0xEF53);
        return Files.write(dir.resolve("rootfs.ext4"), image.array());
    }

    private FirecrackerDriver driver() {
        return new FirecrackerDriver(firecracker, taps, host, FirecrackerDriver.SOCKET_WAIT);
    }

    private InstanceSpec spec(String id, Path initrd, String... args) {
        return StandIns.spec(dir, id, kernel, initrd, List.of(args));
    }

    /** Starts {@code spec}'s instance with the stand-in API served the way {@code guest} would have it answered. */
    private Booted boot(InstanceSpec spec, Guest guest) throws Exception {
        CompletableFuture<StandInFirecrackerApi> api = serveApiOnceFirecrackerRuns(spec, guest, null);
        InstanceHandle handle = driver().start(spec);
        started.add(handle);
        return new Booted(handle, api.get(5, TimeUnit.SECONDS));
    }

    /**
     * Binds the stand-in API on the instance's socket as soon as the stand-in firecracker has started (its args
     * file appears), as the real one opens its socket first thing; meanwhile the driver waits for the socket.
     */
    private CompletableFuture<StandInFirecrackerApi> serveApiOnceFirecrackerRuns(
            InstanceSpec spec, Guest guest, Refusal refusal) {
        CompletableFuture<StandInFirecrackerApi> served = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (!Files.exists(dir.resolve("firecracker.args")) && System.nanoTime() < end) Thread.sleep(10);
                Path stateDir = spec.stateDir().toAbsolutePath();
                StandInFirecrackerApi api =
                        new StandInFirecrackerApi(stateDir.resolve("fc.sock"), stateDir, guest, refusal);
                apis.add(api);
                served.complete(api);
            } catch (Exception e) {
                served.completeExceptionally(e);
            }
        });
        return served;
    }

    /** The requests, as method and path, each followed by its body as JSON (compared as JSON, not as text). */
    private static void assertCalls(List<Request> requests, String... expected) throws IOException {
        List<String> calls = new ArrayList<>();
        for (int i = 0; i < expected.length; i += 2) calls.add(expected[i]);
        assertThat(requests).extracting(r -> r.method() + " " + r.path()).containsExactlyElementsOf(calls);
        for (int i = 0; i < requests.size(); i++) {
            assertThat(Json.MAPPER.readTree(requests.get(i).body()))
                    .as(calls.get(i))
                    .isEqualTo(Json.MAPPER.readTree(expected[2 * i + 1]));
        }
    }

    /** No firecracker process, no tap, no network record, nothing on the instance's port. */
    private void assertNothingLeftBehind(InstanceSpec spec) throws Exception {
        long pid =
                Long.parseLong(Files.readString(dir.resolve("firecracker.pid")).trim());
        assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive))
                .as("firecracker, pid " + pid + ", has ended")
                .isEmpty();
        String tap = Tap.forPort(spec.port()).name();
        assertThat(taps.exists(tap)).as("tap " + tap).isFalse();
        assertThat(StandIns.ipCalls(dir)).last().isEqualTo("tuntap del dev " + tap + " mode tap");
        assertThat(spec.stateDir().resolve(GuestNetwork.FILE)).doesNotExist();
        assertThat(StandIns.acceptsOnLoopback(spec.port())).isFalse();
    }
}
