package io.mayfly.agent.driver.solo5;

import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceSpec;
import io.mayfly.agent.driver.InstanceState;
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
 * <p>Networking: the guest sits on a tap interface (from {@code MAYFLY_TAP}) and configures its own address from
 * its arguments (MirageOS {@code --ipv4=10.0.0.2/24}). Mayfly neither creates the tap nor forwards the agent's
 * loopback port to the guest yet; the host has to (see docs/vm-images.md). A tap is held by one tender at a time.
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
    private final String tap;
    private final Path hostRoot;

    /** The tender on the agent's PATH or in /usr/local/bin (where Solo5's make install puts it), the tap from MAYFLY_TAP. */
    public Solo5Driver(Tender tender) {
        this(tender, VmHost.executable(tender.command, "/usr/local/bin").orElse(null), System.getenv(VmHost.TAP_ENV), Path.of("/"));
    }

    /** {@code binary} null means not installed; {@code hostRoot} is where dev/kvm and sys/class/net are looked up. */
    Solo5Driver(Tender tender, Path binary, String tap, Path hostRoot) {
        this.tender = tender;
        this.binary = binary;
        this.tap = tap;
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
        Optional<String> problem = (tender.kvm ? VmHost.kvmProblem(hostRoot) : Optional.<String>empty())
                .or(() -> VmHost.tapProblem(hostRoot, tap));
        return problem.map(p -> Availability.no(tender.command + ": " + p))
                .orElseGet(() -> Availability.yes(binary + ", guests on tap " + tap));
    }

    @Override
    public InstanceHandle start(InstanceSpec spec) throws DriverException {
        Availability available = availability();
        if (!available.available()) throw new DriverException(available.detail());
        Path unikernel = VmHost.existing(spec.artifact(), "artifact", spec);
        List<String> command = new ArrayList<>(List.of(binary.toString(), "--mem=" + VmHost.memoryMib(spec),
                "--net:" + NET_DEVICE + "=" + tap));
        if (spec.initrd() != null) {
            command.add("--block:" + BLOCK_DEVICE + "=" + privateCopy(VmHost.existing(spec.initrd(), "initrd", spec), spec));
        }
        command.add("--");
        command.add(unikernel.toString());
        command.addAll(spec.args());
        try {
            VmHost.log(spec.logFile(), spec.id() + " is on tap " + tap + "; 127.0.0.1:" + spec.port() + " reaches it only if"
                    + " the host forwards that port to the guest's address, port " + spec.guestPort() + " (Mayfly does not)");
        } catch (IOException e) {
            throw new DriverException("cannot write the console log of " + spec.id() + " at " + spec.logFile() + ": " + e.getMessage(), e);
        }
        return VmmProcess.start(name(), spec, command, null);
    }

    @Override
    public Optional<InstanceHandle> recover(InstanceState state) {
        return VmmProcess.recover(name(), state, null);
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
