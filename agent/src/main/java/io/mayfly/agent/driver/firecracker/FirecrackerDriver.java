package io.mayfly.agent.driver.firecracker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.driver.GuestNetwork;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceSpec;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.Tap;
import io.mayfly.agent.driver.TapDevices;
import io.mayfly.agent.driver.VmHost;
import io.mayfly.agent.driver.VmmProcess;
import io.mayfly.wire.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Boots a kernel as a Firecracker microVM: the whole machine is described up front in a JSON config file
 * ({@code firecracker --api-sock STATE/fc.sock --config-file STATE/vm.json}), so the VM boots without any API
 * call and the firecracker process is the instance. The serial console is Firecracker's stdout, which goes to the
 * instance log. The API socket stays open for one thing: stopping, with {@code SendCtrlAltDel} (a Linux guest
 * with the i8042 driver shuts down and Firecracker exits), then SIGTERM and SIGKILL once the grace is over.
 *
 * <p>The guest's network is a virtio-net device {@code eth0} on the instance's own tap and /30 ({@link GuestNetwork});
 * the kernel configures it from its command line ({@code ip=GUEST::HOST:255.255.255.252::eth0:off}), and the
 * agent forwards its loopback port to the guest's port.
 */
public final class FirecrackerDriver implements Driver {
    public static final String NAME = "firecracker";
    static final String SOCKET = "fc.sock";
    static final String CONFIG = "vm.json";
    /**
     * Serial console on, reboot through the keyboard controller (which Firecracker turns into its own exit), no
     * PCI probing (Firecracker has only virtio-mmio). Then {@code run.args}.
     */
    static final String BOOT_ARGS = "console=ttyS0 reboot=k panic=1 pci=off";
    /** sun_path holds 108 bytes including the terminating NUL. */
    private static final int MAX_SOCKET_PATH = 107;

    private final Path firecracker;
    private final TapDevices taps;
    private final Path hostRoot;

    /** firecracker on the agent's PATH or in /usr/local/bin, on the real host. */
    public FirecrackerDriver() {
        this(VmHost.executable("firecracker", "/usr/local/bin").orElse(null), new TapDevices(), Path.of("/"));
    }

    /** {@code firecracker} null means not installed; {@code hostRoot} is where dev/kvm is looked up. */
    FirecrackerDriver(Path firecracker, TapDevices taps, Path hostRoot) {
        this.firecracker = firecracker;
        this.taps = taps;
        this.hostRoot = hostRoot;
    }

    @Override
    public String name() { return NAME; }

    @Override
    public Availability availability() {
        if (firecracker == null) {
            return Availability.no("firecracker not found on PATH or in /usr/local/bin; it is not packaged in Debian: download "
                    + "firecracker-vX.Y.Z-x86_64.tgz from https://github.com/firecracker-microvm/firecracker/releases and install "
                    + "its release-vX.Y.Z-x86_64/firecracker-vX.Y.Z-x86_64 binary as /usr/local/bin/firecracker");
        }
        return VmHost.kvmProblem(hostRoot).or(taps::problem)
                .map(p -> Availability.no("firecracker: " + p))
                .orElseGet(() -> Availability.yes(firecracker + ", each guest on its own tap"));
    }

    @Override
    public InstanceHandle start(InstanceSpec spec) throws DriverException {
        Availability available = availability();
        if (!available.available()) throw new DriverException(available.detail());
        Path kernel = VmHost.existing(spec.artifact(), "artifact", spec);
        Path initrd = spec.initrd() == null ? null : VmHost.existing(spec.initrd(), "initrd", spec);
        Path stateDir = spec.stateDir().toAbsolutePath();
        Path socket = stateDir.resolve(SOCKET);
        Path config = stateDir.resolve(CONFIG);
        if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
            throw new DriverException("the API socket path " + socket + " is longer than the " + MAX_SOCKET_PATH
                    + " bytes a unix socket allows; move the agent's data directory to a shorter path");
        }
        refuseOwnAddressing(spec);
        GuestNetwork network = GuestNetwork.open(taps, spec);
        try {
            Files.createDirectories(stateDir);
            Files.deleteIfExists(socket); // Firecracker refuses to start on an existing socket path
            Files.writeString(config, Json.pretty(config(spec, kernel, initrd, network.tap())));
        } catch (IOException e) {
            network.close();
            throw new DriverException("cannot write the Firecracker config of " + spec.id() + " to " + config + ": " + e.getMessage(), e);
        }
        List<String> command = List.of(firecracker.toString(), "--api-sock", socket.toString(), "--config-file", config.toString());
        return VmmProcess.start(NAME, spec, command, () -> FirecrackerApi.sendCtrlAltDel(socket), network);
    }

    @Override
    public Optional<InstanceHandle> recover(InstanceState state) {
        Path socket = state.stateDir().toAbsolutePath().resolve(SOCKET);
        return VmmProcess.recover(NAME, state, () -> FirecrackerApi.sendCtrlAltDel(socket), taps);
    }

    /** The guest's address is the instance's own /30: an {@code ip=} given by hand would contradict it. */
    private static void refuseOwnAddressing(InstanceSpec spec) throws DriverException {
        for (String arg : spec.args()) {
            if (arg.startsWith("ip=")) {
                throw new DriverException("run.args of " + spec.app() + " v" + spec.release() + " sets " + arg + ", but Mayfly gives each "
                        + "Firecracker guest its own address on the kernel command line (ip=, on a tap of its own): remove it from run.args");
            }
        }
    }

    /** The kernel's own network configuration (CONFIG_IP_PNP): {@code ip=CLIENT:SERVER:GATEWAY:NETMASK:HOSTNAME:DEVICE:AUTOCONF}. */
    static String kernelIpArgument(Tap tap) {
        return "ip=" + tap.guestAddress() + "::" + tap.hostAddress() + ":" + Tap.NETMASK + "::eth0:off";
    }

    /** The machine in Firecracker's config-file schema (the bodies of its PUT /boot-source, /drives, ... in one document). */
    static ObjectNode config(InstanceSpec spec, Path kernel, Path initrd, Tap tap) {
        ObjectNode vm = Json.MAPPER.createObjectNode();
        List<String> bootArgs = new ArrayList<>(List.of(BOOT_ARGS, kernelIpArgument(tap)));
        bootArgs.addAll(spec.args());
        ObjectNode boot = vm.putObject("boot-source").put("kernel_image_path", kernel.toString())
                .put("boot_args", String.join(" ", bootArgs));
        if (initrd != null) boot.put("initrd_path", initrd.toString());
        vm.putArray("drives"); // required by the schema; the kernel (with its initrd) is the whole guest
        vm.putObject("machine-config").put("vcpu_count", Math.max(1, spec.vcpus())).put("mem_size_mib", VmHost.memoryMib(spec));
        vm.putArray("network-interfaces").addObject().put("iface_id", "eth0").put("host_dev_name", tap.name());
        return vm;
    }
}
