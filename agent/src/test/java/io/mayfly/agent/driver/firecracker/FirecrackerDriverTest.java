package io.mayfly.agent.driver.firecracker;

import com.fasterxml.jackson.databind.JsonNode;
import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceSpec;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.InstanceStateFile;
import io.mayfly.agent.driver.StandIns;
import io.mayfly.agent.driver.Tap;
import io.mayfly.agent.driver.TapDevices;
import io.mayfly.wire.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Firecracker is not available where Mayfly is developed: these tests run the driver against stand-ins. */
class FirecrackerDriverTest {
    /**
     * Stand-in for the firecracker binary. Checks that it got the real command line (--api-sock PATH --config-file
     * FILE), records its arguments in $0.args and the config it was given in $0.config, prints a boot line on its
     * stdout (Firecracker's serial console), then plays a running VM. It exits 0 when the guest has taken
     * Ctrl-Alt-Del (the API stand-in creates ./ctrl-alt-del), as Firecracker exits after the guest resets, and on
     * SIGTERM, which kills the real one, it says so and exits 143.
     */
    private static final String STAND_IN_FIRECRACKER = """
            #!/bin/sh
            printf '%s\\n' "$@" > "$0.args"
            if [ $# -ne 4 ] || [ "$1" != --api-sock ] || [ "$3" != --config-file ] || [ ! -f "$4" ]; then
              echo "firecracker stand-in: expected --api-sock PATH --config-file FILE" >&2; exit 1
            fi
            cp "$4" "$0.config"
            trap 'echo "firecracker stand-in: got SIGTERM" >&2; exit 143' TERM
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
        FirecrackerDriver missing = new FirecrackerDriver(null, taps, host);

        assertThat(missing.name()).isEqualTo("firecracker");
        assertThat(missing.availability().available()).isFalse();
        assertThat(missing.availability().detail()).contains("firecracker not found", "not packaged in Debian",
                "github.com/firecracker-microvm/firecracker/releases", "/usr/local/bin/firecracker");
        assertThatThrownBy(() -> missing.start(spec("hello-v3-none", null))).isInstanceOf(DriverException.class)
                .hasMessageContaining("firecracker not found");
    }

    @Test
    void withoutTheRightToCreateTapsOrWithoutKvmItIsUnavailable() throws Exception {
        assertThat(driver().availability().available()).isTrue();
        StandIns.agentStatus(host, 1000, "0000000000000000", "0000000000000000");
        assertThat(driver().availability().detail()).startsWith("firecracker: the agent lacks CAP_NET_ADMIN");
        assertThatThrownBy(() -> driver().start(spec("hello-v3-notap", null))).isInstanceOf(DriverException.class)
                .hasMessageContaining("CAP_NET_ADMIN");
        assertThat(StandIns.ipCalls(dir)).isEmpty();

        Files.delete(host.resolve("dev/kvm"));
        assertThat(driver().availability().detail()).contains("dev/kvm does not exist");
    }

    @Test
    void startWritesTheConfigInFirecrackersSchemaAndRunsFirecrackerWithItAndItsApiSocket() throws Exception {
        Path initrd = Files.writeString(dir.resolve("initramfs.cpio"), "stand-in initrd");
        InstanceSpec spec = spec("hello-v3-run", initrd, "init=/hello");
        Tap tap = Tap.forPort(spec.port());

        InstanceHandle handle = start(spec);

        String log = StandIns.await(spec.logFile(), "guest booted");
        Path stateDir = spec.stateDir().toAbsolutePath();
        assertThat(Files.readAllLines(dir.resolve("firecracker.args")))
                .containsExactly("--api-sock", stateDir.resolve("fc.sock").toString(), "--config-file", stateDir.resolve("vm.json").toString());
        JsonNode vm = Json.MAPPER.readTree(dir.resolve("firecracker.config").toFile());
        assertThat(vm.properties()).extracting(e -> e.getKey())
                .containsExactly("boot-source", "drives", "machine-config", "network-interfaces");
        assertThat(vm.at("/boot-source/kernel_image_path").asText()).isEqualTo(kernel.toString());
        assertThat(vm.at("/boot-source/initrd_path").asText()).isEqualTo(initrd.toString());
        assertThat(vm.at("/boot-source/boot_args").asText())
                .isEqualTo("console=ttyS0 reboot=k panic=1 pci=off ip=" + tap.guestAddress() + "::" + tap.hostAddress()
                        + ":255.255.255.252::eth0:off init=/hello");
        assertThat(vm.get("drives").isArray()).isTrue();
        assertThat(vm.get("drives")).isEmpty();
        assertThat(vm.at("/machine-config/vcpu_count").asInt()).isEqualTo(2);
        assertThat(vm.at("/machine-config/mem_size_mib").asInt()).isEqualTo(128);
        assertThat(vm.get("network-interfaces")).hasSize(1);
        assertThat(vm.at("/network-interfaces/0/iface_id").asText()).isEqualTo("eth0");
        assertThat(vm.at("/network-interfaces/0/host_dev_name").asText()).isEqualTo(tap.name());
        assertThat(log).contains("mayfly: starting hello-v3-run: " + firecracker + " --api-sock");
        assertThat(handle.state().driver()).isEqualTo("firecracker");
        assertThat(InstanceStateFile.read(InstanceStateFile.in(spec.stateDir()))).isEqualTo(handle.state());
        assertThat(handle.isAlive()).isTrue();
    }

    @Test
    void withoutAnInitrdTheBootSourceHasNoInitrdPath() throws Exception {
        InstanceSpec spec = spec("hello-v3-noinitrd", null);
        start(spec);

        StandIns.await(spec.logFile(), "guest booted");
        JsonNode boot = Json.MAPPER.readTree(dir.resolve("firecracker.config").toFile()).get("boot-source");
        assertThat(boot.has("initrd_path")).isFalse();
        assertThat(boot.get("boot_args").asText()).startsWith("console=ttyS0 reboot=k panic=1 pci=off ip=");
    }

    @Test
    void stopSendsCtrlAltDelOverTheApiSocketAndAGuestThatTakesItEndsFirecracker() throws Exception {
        InstanceSpec spec = spec("hello-v3-cad", null);
        InstanceHandle handle = start(spec);
        StandInFirecrackerApi api = api(spec, StandInFirecrackerApi.Guest.OBEYS);

        handle.stop(Duration.ofSeconds(10));

        assertThat(handle.exited().get(5, TimeUnit.SECONDS)).isZero();
        assertThat(api.requests()).hasSize(1);
        String request = api.requests().getFirst();
        String body = request.substring(request.indexOf("\r\n\r\n") + 4);
        assertThat(request).startsWith("PUT /actions HTTP/1.1\r\n").contains("Content-Type: application/json\r\n",
                "Content-Length: " + body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + "\r\n");
        assertThat(Json.MAPPER.readTree(body).properties()).singleElement()
                .satisfies(e -> assertThat(e.getKey() + "=" + e.getValue().asText()).isEqualTo("action_type=SendCtrlAltDel"));
        assertThat(Files.readString(spec.logFile())).contains("guest reset on Ctrl-Alt-Del").doesNotContain("SIGTERM");
    }

    @Test
    void whenTheGuestIgnoresCtrlAltDelFirecrackerGetsSigtermAfterTheGrace() throws Exception {
        InstanceSpec spec = spec("hello-v3-deaf", null);
        InstanceHandle handle = start(spec);
        StandInFirecrackerApi api = api(spec, StandInFirecrackerApi.Guest.IGNORES);
        long began = System.nanoTime();

        handle.stop(Duration.ofMillis(600));

        assertThat(Duration.ofNanos(System.nanoTime() - began)).isGreaterThanOrEqualTo(Duration.ofMillis(600));
        assertThat(handle.exited().get(5, TimeUnit.SECONDS)).isEqualTo(143);
        assertThat(api.requests()).hasSize(1);
        assertThat(Files.readString(spec.logFile())).contains("did not stop within 600 ms of the request; sending SIGTERM",
                "firecracker stand-in: got SIGTERM");
    }

    @Test
    void withoutAnApiSocketStopSendsSigtermAtOnce() throws Exception {
        InstanceSpec spec = spec("hello-v3-nosock", null);
        InstanceHandle handle = start(spec);
        StandIns.await(spec.logFile(), "guest booted");
        long began = System.nanoTime();

        handle.stop(Duration.ofSeconds(10));

        assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(Duration.ofSeconds(3));
        assertThat(handle.exited().get(5, TimeUnit.SECONDS)).isEqualTo(143);
        assertThat(Files.readString(spec.logFile())).contains("could not ask hello-v3-nosock to stop", "firecracker stand-in: got SIGTERM");
    }

    @Test
    void aWedgedApiCostsNoMoreThanItsTimeoutBeforeSigterm() throws Exception {
        InstanceSpec spec = spec("hello-v3-wedged", null);
        InstanceHandle handle = start(spec);
        StandInFirecrackerApi api = api(spec, StandInFirecrackerApi.Guest.WEDGED);
        long began = System.nanoTime();

        handle.stop(Duration.ofSeconds(30));

        assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(FirecrackerApi.TIMEOUT.plusSeconds(3));
        assertThat(api.requests()).hasSize(1);
        assertThat(handle.exited().get(5, TimeUnit.SECONDS)).isEqualTo(143);
        assertThat(Files.readString(spec.logFile())).contains("no answer from Firecracker's API");
    }

    @Test
    void aRestartedAgentReadoptsFirecrackerAndStopsItThroughTheApi() throws Exception {
        InstanceSpec spec = spec("hello-v3-adopt", null);
        InstanceHandle first = start(spec);
        StandInFirecrackerApi api = api(spec, StandInFirecrackerApi.Guest.OBEYS);
        InstanceState persisted = InstanceStateFile.read(InstanceStateFile.in(spec.stateDir()));

        InstanceHandle adopted = driver().recover(persisted).orElseThrow();

        assertThat(adopted.state().pid()).isEqualTo(first.state().pid());
        assertThat(adopted.isAlive()).isTrue();
        adopted.stop(Duration.ofSeconds(10));
        assertThat(adopted.exited().get(5, TimeUnit.SECONDS)).isEqualTo(-1);
        assertThat(first.exited().get(5, TimeUnit.SECONDS)).isZero();
        assertThat(api.requests()).singleElement().asString().contains("SendCtrlAltDel");
        assertThat(driver().recover(persisted)).as("a stopped instance").isEmpty();
    }

    @Test
    void aMissingKernelIsADriverException() throws Exception {
        Files.delete(kernel);

        assertThatThrownBy(() -> driver().start(spec("hello-v3-gone", null))).isInstanceOf(DriverException.class)
                .hasMessageContaining("the artifact of hello v3 is missing: " + kernel);
        assertThat(Files.exists(dir.resolve("firecracker.args"))).isFalse();
    }

    private FirecrackerDriver driver() {
        return new FirecrackerDriver(firecracker, taps, host);
    }

    private InstanceSpec spec(String id, Path initrd, String... args) {
        return StandIns.spec(dir, id, kernel, initrd, List.of(args));
    }

    private InstanceHandle start(InstanceSpec spec) throws Exception {
        InstanceHandle handle = driver().start(spec);
        started.add(handle);
        return handle;
    }

    /** Once the stand-in firecracker runs, serves its API socket the way {@code guest} would have it answered. */
    private StandInFirecrackerApi api(InstanceSpec spec, StandInFirecrackerApi.Guest guest) throws Exception {
        StandIns.await(spec.logFile(), "guest booted");
        StandInFirecrackerApi api = new StandInFirecrackerApi(spec.stateDir().resolve("fc.sock"), spec.stateDir(), guest);
        apis.add(api);
        return api;
    }
}
