package io.mayfly.agent.driver.solo5;

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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Runs a Solo5 unikernel (a MirageOS {@code -t hvt} or {@code -t spt} build) under its tender, which is the
 * instance's process: {@code solo5-hvt --mem=MB --net:service=TAP [--block:storage=FILE] -- UNIKERNEL ARGS...}.
 * hvt runs the guest in a KVM virtual machine, spt as a seccomp-sandboxed process; the command line is the same.
 *
 * <p>Solo5 binds devices by the names in the unikernel's manifest. MirageOS calls its network device
 * {@code service}, so the instance's tap is attached as {@code --net:service=TAP}; {@code build.initrd}, when a
 * release has one, is attached as the block device {@code storage}, as a private copy in the instance directory,
 * because the guest may write to it and the stored artifact is content-addressed.
 *
 * <p>Networking: each instance has its own tap and /30 ({@link GuestNetwork}); the guest is told its address as
 * MirageOS takes it, {@code --ipv4=GUEST/30 --ipv4-gateway=HOST} before {@code run.args}, and the agent forwards
 * its loopback port to the guest's port.
 *
 * <p>Solo5 has no way to ask a guest to shut down: the tender exits on SIGTERM and the guest ends with it.
 */
public final class Solo5Driver implements Driver {
    /** The manifest names MirageOS gives a unikernel's network and block devices. */
    static final String NET_DEVICE = "service";
    static final String BLOCK_DEVICE = "storage";

    /** Which Solo5 tender runs the unikernel; its command name is the driver's name. */
    public enum Tender {
        HVT("solo5-hvt", true), SPT("solo5-spt", false);

        final String command;
        final boolean kvm;

        Tender(String command, boolean kvm) {
            this.command = command;
            this.kvm = kvm;
        }
    }

    private final Tender tender;
    private final Path binary;
    private final TapDevices taps;
    private final Path hostRoot;

    /** The tender on the agent's PATH or in /usr/local/bin (where Solo5's make install puts it), on the real host. */
    public Solo5Driver(Tender tender) {
        this(tender, VmHost.executable(tender.command, "/usr/local/bin").orElse(null), new TapDevices(), Path.of("/"));
    }

    /** {@code binary} null means not installed; {@code hostRoot} is where dev/kvm is looked up. */
    Solo5Driver(Tender tender, Path binary, TapDevices taps, Path hostRoot) {
        this.tender = tender;
        this.binary = binary;
        this.taps = taps;
        this.hostRoot = hostRoot;
    }

    @Override
    public String name() { return tender.command; }

    @Override
    public Availability availability() {
        if (binary == null) {
            return Availability.no(tender.command + " not found on PATH or in /usr/local/bin; Solo5 is not packaged in Debian: "
                    + "install it with opam (opam install solo5) or build it from https://github.com/Solo5/solo5 "
                    + "(./configure.sh && make && make install), and put " + tender.command + " on the agent's PATH");
        }
        Optional<String> problem = (tender.kvm ? VmHost.kvmProblem(hostRoot) : Optional.<String>empty()).or(taps::problem);
        return problem.map(p -> Availability.no(tender.command + ": " + p))
                .orElseGet(() -> Availability.yes(binary + ", each guest on its own tap"));
    }

    @Override
    public InstanceHandle start(InstanceSpec spec) throws DriverException {
        Availability available = availability();
        if (!available.available()) throw new DriverException(available.detail());
        Path unikernel = VmHost.existing(spec.artifact(), "artifact", spec);
        refuseOwnAddressing(spec);
        Path block = spec.initrd() == null ? null : privateCopy(VmHost.existing(spec.initrd(), "initrd", spec), spec);
        GuestNetwork network = GuestNetwork.open(taps, spec);
        Tap tap = network.tap();
        List<String> command = new ArrayList<>(List.of(binary.toString(), "--mem=" + VmHost.memoryMib(spec),
                "--net:" + NET_DEVICE + "=" + tap.name()));
        if (block != null) command.add("--block:" + BLOCK_DEVICE + "=" + block);
        command.add("--");
        command.add(unikernel.toString());
        command.addAll(List.of("--ipv4=" + tap.guestCidr(), "--ipv4-gateway=" + tap.hostAddress()));
        command.addAll(spec.args());
        return VmmProcess.start(name(), spec, command, null, network);
    }

    @Override
    public Optional<InstanceHandle> recover(InstanceState state) {
        return VmmProcess.recover(name(), state, null, taps);
    }

    /** The guest's address is the instance's own /30: one of the arguments given by hand would contradict it. */
    private static void refuseOwnAddressing(InstanceSpec spec) throws DriverException {
        for (String arg : spec.args()) {
            if (arg.startsWith("--ipv4=") || arg.startsWith("--ipv4-gateway=")) {
                throw new DriverException("run.args of " + spec.app() + " v" + spec.release() + " sets " + arg + ", but Mayfly gives each "
                        + "Solo5 guest its own address and gateway (--ipv4 and --ipv4-gateway, on a tap of its own): remove it from run.args");
            }
        }
    }

    /** The block device the guest gets: a copy in its instance directory, never the stored artifact itself. */
    private static Path privateCopy(Path image, InstanceSpec spec) throws DriverException {
        Path copy = spec.stateDir().toAbsolutePath().resolve(BLOCK_DEVICE + ".img");
        try {
            Files.createDirectories(copy.getParent());
            Files.copy(image, copy, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new DriverException("cannot copy " + image + " to " + copy + " as the block device of " + spec.id() + ": "
                    + e.getMessage(), e);
        }
        return copy;
    }
}
