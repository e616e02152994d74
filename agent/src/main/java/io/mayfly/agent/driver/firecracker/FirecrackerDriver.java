package io.mayfly.agent.driver.firecracker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.driver.GuestNetwork;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceSpec;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.PrivateDisk;
import io.mayfly.agent.driver.Tap;
import io.mayfly.agent.driver.TapDevices;
import io.mayfly.agent.driver.VmHost;
import io.mayfly.agent.driver.VmmProcess;
import io.mayfly.wire.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Boots a kernel as a Firecracker microVM, configured through Firecracker's API the way its getting-started guide
 * does: {@code firecracker --api-sock STATE/fc.sock} starts an empty VMM, which is the instance's process; once the
 * socket accepts, {@code PUT /machine-config}, {@code /boot-source}, {@code /drives/rootfs} when the guest has a root
 * drive, {@code /network-interfaces/eth0}, then {@code PUT /actions {"action_type": "InstanceStart"}} boots the guest.
 * A step Firecracker refuses (its answer's {@code fault_message} is in the error), or a socket that does not open in
 * time, stops the VMM, takes its network down again and removes the copy of its root drive.
 *
 * <p>The release's {@code build.initrd} does one of two jobs, told apart by its first bytes ({@link Initramfs}). An
 * initramfs (a cpio archive, compressed or not) is the boot source's {@code initrd_path}. Anything else is taken for a
 * disk image with the guest's root filesystem (ext4, say) and attached as the root drive, as the Solo5 driver
 * attaches it as a block device: a private copy in the instance directory, because the guest writes to it, with
 * {@code root=/dev/vda rw} on the kernel command line. Firecracker appends the same for a drive marked
 * {@code is_root_device}, after {@code run.args}; so when {@code run.args} choose their own {@code root=}, the drive
 * is attached without that mark (it is still {@code /dev/vda}) and Mayfly adds no {@code root=} either.
 *
 * <p>The serial console is Firecracker's stdout, which goes to the instance log. Stopping sends
 * {@code SendCtrlAltDel} over the same socket (a Linux guest with the i8042 driver shuts down and Firecracker exits),
 * then SIGTERM and SIGKILL once the grace is over.
 *
 * <p>The guest's network is a virtio-net device {@code eth0} on the instance's own tap and /30 ({@link GuestNetwork});
 * the kernel configures it from its command line ({@code ip=GUEST::HOST:255.255.255.252::eth0:off}), and the
 * agent forwards its loopback port to the guest's port.
 */
public final class FirecrackerDriver implements Driver {
    public static final String NAME = "firecracker";
    static final String SOCKET = "fc.sock";
    /**
     * Serial console on, reboot through the keyboard controller (which Firecracker turns into its own exit), no
     * PCI probing (Firecracker has only virtio-mmio). Then the guest's address, {@link #ROOT_ARGS} when the guest has a
     * root drive, then {@code run.args}.
     */
    static final String BOOT_ARGS = "console=ttyS0 reboot=k panic=1 pci=off";
    /** The drive a release's disk image is attached as, and the file name of its copy in the instance directory. */
    static final String ROOT_DRIVE = "rootfs";
    /**
     * The root filesystem on a root drive: Firecracker's first virtio-block device, read-write like the drive. Left out
     * when {@code run.args} say {@code root=} themselves.
     */
    static final String ROOT_ARGS = "root=/dev/vda rw";
    /** How long firecracker gets to open its API socket; it does so first thing, so this is generous. */
    static final Duration SOCKET_WAIT = Duration.ofSeconds(5);
    /** For each configuration call: Firecracker answers them at once, InstanceStart once the guest's memory is set up. */
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);
    /** sun_path holds 108 bytes including the terminating NUL. */
    private static final int MAX_SOCKET_PATH = 107;

    /** One call of the boot sequence: {@code PUT path} with a JSON body. */
    record ApiCall(String path, ObjectNode body) {}

    /** What the guest boots: its kernel, and the release's initrd as either its initramfs or its root drive (then a copy), or neither. */
    record BootImages(Path kernel, Path initramfs, Path rootDrive) {
        /** Removes the root drive of a guest that did not start: nothing will use the copy. */
        void discardRootDrive() {
            if (rootDrive == null) return;
            try {
                Files.deleteIfExists(rootDrive);
            } catch (IOException leftInTheInstanceDirectory) {
                // as harmless as the copy of a guest that ran
            }
        }
    }

    private final Path firecracker;
    private final TapDevices taps;
    private final Path hostRoot;
    private final Duration socketWait;

    /** firecracker on the agent's PATH or in /usr/local/bin, on the real host. */
    public FirecrackerDriver() {
        this(
                VmHost.executable("firecracker", "/usr/local/bin").orElse(null),
                new TapDevices(),
                Path.of("/"),
                SOCKET_WAIT);
    }

    /** {@code firecracker} null means not installed; {@code hostRoot} is where dev/kvm is looked up. */
    FirecrackerDriver(Path firecracker, TapDevices taps, Path hostRoot, Duration socketWait) {
        this.firecracker = firecracker;
        this.taps = taps;
        this.hostRoot = hostRoot;
        this.socketWait = socketWait;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Availability availability() {
        if (firecracker == null) {
            return Availability.no(
                    "firecracker not found on PATH or in /usr/local/bin; it is not packaged in Debian: download "
                            + "firecracker-vX.Y.Z-x86_64.tgz from https://github.com/firecracker-microvm/firecracker/releases and install "
                            + "its release-vX.Y.Z-x86_64/firecracker-vX.Y.Z-x86_64 binary as /usr/local/bin/firecracker");
        }
        return VmHost.kvmProblem(hostRoot)
                .or(taps::problem)
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
        if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
            throw new DriverException("the API socket path " + socket + " is longer than the " + MAX_SOCKET_PATH
                    + " bytes a unix socket allows; move the agent's data directory to a shorter path");
        }
        refuseOwnAddressing(spec);
        try {
            Files.createDirectories(stateDir);
            Files.deleteIfExists(socket); // Firecracker refuses to start on an existing socket path
        } catch (IOException e) {
            throw new DriverException(
                    "cannot prepare " + socket + " for the API of " + spec.id() + ": " + e.getMessage(), e);
        }
        BootImages images = bootImages(spec, kernel, initrd);
        try {
            return boot(spec, socket, images);
        } catch (DriverException | RuntimeException e) {
            images.discardRootDrive();
            throw e;
        }
    }

    /** Starts the VMM, then configures and boots the microVM through its API; a step that fails stops the VMM again. */
    private VmmProcess boot(InstanceSpec spec, Path socket, BootImages images) throws DriverException {
        GuestNetwork network = GuestNetwork.open(taps, spec);
        VmmProcess vmm = VmmProcess.start(
                NAME,
                spec,
                List.of(firecracker.toString(), "--api-sock", socket.toString()),
                () -> FirecrackerApi.sendCtrlAltDel(socket),
                network);
        try {
            FirecrackerApi.awaitSocket(socket, socketWait, vmm.exited());
        } catch (IOException e) {
            vmm.abort();
            throw new DriverException(e.getMessage() + "; it was stopped, and its output is in " + spec.logFile(), e);
        }
        for (ApiCall call : bootSequence(spec, images, network.tap())) {
            FirecrackerApi.Response response;
            try {
                response = FirecrackerApi.put(
                        socket, call.path(), Json.MAPPER.writeValueAsString(call.body()), CALL_TIMEOUT);
            } catch (IOException e) {
                vmm.abort();
                throw new DriverException(
                        "PUT " + call.path() + " to Firecracker for " + spec.id() + " failed: " + e.getMessage()
                                + "; the microVM was stopped",
                        e);
            }
            if (!response.ok()) {
                vmm.abort();
                throw new DriverException("Firecracker refused PUT " + call.path() + " for " + spec.id() + " (HTTP "
                        + response.status() + "): " + response.faultMessage() + "; the microVM was stopped");
            }
        }
        return vmm;
    }

    @Override
    public Optional<InstanceHandle> recover(InstanceState state) {
        Path socket = state.stateDir().toAbsolutePath().resolve(SOCKET);
        return VmmProcess.recover(NAME, state, () -> FirecrackerApi.sendCtrlAltDel(socket), taps);
    }

    /**
     * The release's initrd as the guest gets it. An initramfs stays the kernel's initrd; anything else is taken for a
     * disk image with the guest's root filesystem and becomes its root drive, as Solo5 attaches the initrd as a block
     * device: a private copy, because the guest writes to it.
     */
    private static BootImages bootImages(InstanceSpec spec, Path kernel, Path initrd) throws DriverException {
        if (initrd == null) return new BootImages(kernel, null, null);
        Optional<String> initramfs;
        try {
            initramfs = Initramfs.format(initrd);
        } catch (IOException e) {
            throw new DriverException(
                    "cannot read the initrd " + initrd + " of " + spec.app() + " v" + spec.release() + ": "
                            + e.getMessage(),
                    e);
        }
        if (initramfs.isPresent()) {
            VmHost.note(
                    spec.logFile(),
                    "the initrd of " + spec.id() + " is an initramfs (" + initramfs.get() + "), which the kernel "
                            + "unpacks as its root filesystem: " + initrd);
            return new BootImages(kernel, initrd, null);
        }
        Path copy = PrivateDisk.copy(initrd, ROOT_DRIVE, spec);
        VmHost.note(
                spec.logFile(),
                "the initrd of " + spec.id() + " is not an initramfs (a cpio archive, compressed or not), so it is "
                        + "the guest's root drive /dev/vda: " + copy + ", a private copy of " + initrd);
        return new BootImages(kernel, null, copy);
    }

    /**
     * The calls that configure and boot the microVM, in order, with the field names of Firecracker's swagger
     * (MachineConfiguration, BootSource, Drive, NetworkInterface, InstanceActionInfo).
     */
    static List<ApiCall> bootSequence(InstanceSpec spec, BootImages images, Tap tap) {
        List<ApiCall> calls = new ArrayList<>();
        calls.add(new ApiCall(
                "/machine-config",
                Json.MAPPER
                        .createObjectNode()
                        .put("vcpu_count", Math.max(1, spec.vcpus()))
                        .put("mem_size_mib", VmHost.memoryMib(spec))));
        boolean ownRoot = spec.args().stream().anyMatch(arg -> arg.startsWith("root="));
        List<String> bootArgs = new ArrayList<>(List.of(BOOT_ARGS, kernelIpArgument(tap)));
        if (images.rootDrive() != null && !ownRoot) bootArgs.add(ROOT_ARGS);
        bootArgs.addAll(spec.args());
        ObjectNode boot = Json.MAPPER
                .createObjectNode()
                .put("kernel_image_path", images.kernel().toString())
                .put("boot_args", String.join(" ", bootArgs));
        if (images.initramfs() != null)
            boot.put("initrd_path", images.initramfs().toString());
        calls.add(new ApiCall("/boot-source", boot));
        if (images.rootDrive() != null) {
            // For a root device Firecracker appends root=/dev/vda after run.args, overriding a root= of their own;
            // unmarked, the only drive is /dev/vda all the same.
            calls.add(new ApiCall(
                    "/drives/" + ROOT_DRIVE,
                    Json.MAPPER
                            .createObjectNode()
                            .put("drive_id", ROOT_DRIVE)
                            .put("path_on_host", images.rootDrive().toString())
                            .put("is_root_device", !ownRoot)
                            .put("is_read_only", false)));
        }
        calls.add(new ApiCall(
                "/network-interfaces/eth0",
                Json.MAPPER.createObjectNode().put("iface_id", "eth0").put("host_dev_name", tap.name())));
        calls.add(new ApiCall("/actions", Json.MAPPER.createObjectNode().put("action_type", "InstanceStart")));
        return calls;
    }

    /** The kernel's own network configuration (CONFIG_IP_PNP): {@code ip=CLIENT:SERVER:GATEWAY:NETMASK:HOSTNAME:DEVICE:AUTOCONF}. */
    static String kernelIpArgument(Tap tap) {
        return "ip=" + tap.guestAddress() + "::" + tap.hostAddress() + ":" + Tap.NETMASK + "::eth0:off";
    }

    /** The guest's address is the instance's own /30: an {@code ip=} given by hand would contradict it. */
    private static void refuseOwnAddressing(InstanceSpec spec) throws DriverException {
        for (String arg : spec.args()) {
            if (arg.startsWith("ip=")) {
                throw new DriverException(
                        "run.args of " + spec.app() + " v" + spec.release() + " sets " + arg
                                + ", but Mayfly gives each "
                                + "Firecracker guest its own address on the kernel command line (ip=, on a tap of its own): remove it from run.args");
            }
        }
    }
}
