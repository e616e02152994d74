package io.mayfly.agent.driver.solo5;

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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Runs a Solo5 unikernel (a MirageOS {@code -t hvt} or {@code -t spt} build) under its tender, which is the
 * instance's process: {@code solo5-hvt --mem=MB --net:NAME=TAP [--block:NAME=FILE] -- UNIKERNEL ARGS...}. hvt runs
 * the guest in a KVM virtual machine, spt as a seccomp-sandboxed process; the command line is the same.
 *
 * <p>The tender attaches devices by the names the unikernel declares in its manifest, which
 * {@code solo5-elftool query-manifest} reads ({@link Solo5Manifest}). Every declared device is attached: the one
 * network device to the instance's tap, and a block device, when there is one, to a private copy of the release's
 * {@code build.initrd} in the instance directory, because the guest may write to it and the stored artifact is
 * content-addressed. A manifest Mayfly cannot satisfy (no network device, or more than one; more than one block
 * device; a block device and no initrd, or the other way round; a type it does not know) fails the start with what
 * to change, before anything is created.
 *
 * <p>Networking: each instance has its own tap and /30 ({@link GuestNetwork}), and the agent forwards its loopback
 * port to the guest's port. The guest is told its address where it takes it ({@link Solo5Arguments}): through the
 * placeholders {@code {ipv4}}, {@code {cidr}}, {@code {netmask}}, {@code {gateway}} (and {@code {port}}, the guest's
 * port) in {@code run.args}, or, when they use none and the unikernel is a MirageOS one, as MirageOS takes it,
 * {@code --ipv4=GUEST/30 --ipv4-gateway=HOST} before {@code run.args}.
 *
 * <p>Solo5 has no way to ask a guest to shut down: the tender exits on SIGTERM and the guest ends with it.
 */
public final class Solo5Driver implements Driver {
    /** Which Solo5 tender runs the unikernel; its command name is the driver's name. */
    public enum Tender {
        HVT("solo5-hvt", true),
        SPT("solo5-spt", false);

        final String command;
        final boolean kvm;

        Tender(String command, boolean kvm) {
            this.command = command;
            this.kvm = kvm;
        }
    }

    static final String ELFTOOL = "solo5-elftool";
    private static final String INSTALL =
            "Solo5 is not packaged in Debian: install it with opam (opam install solo5) or build "
                    + "it from https://github.com/Solo5/solo5 (./configure.sh && make && make install)";

    private final Tender tender;
    private final Path binary;
    private final Path elftool;
    private final TapDevices taps;
    private final Path hostRoot;

    /** The tender and solo5-elftool on the agent's PATH or in /usr/local/bin (where Solo5's make install puts them), on the real host. */
    public Solo5Driver(Tender tender) {
        this(
                tender,
                VmHost.executable(tender.command, "/usr/local/bin").orElse(null),
                VmHost.executable(ELFTOOL, "/usr/local/bin").orElse(null),
                new TapDevices(),
                Path.of("/"));
    }

    /** {@code binary} or {@code elftool} null means not installed; {@code hostRoot} is where dev/kvm is looked up. */
    Solo5Driver(Tender tender, Path binary, Path elftool, TapDevices taps, Path hostRoot) {
        this.tender = tender;
        this.binary = binary;
        this.elftool = elftool;
        this.taps = taps;
        this.hostRoot = hostRoot;
    }

    @Override
    public String name() {
        return tender.command;
    }

    @Override
    public Set<String> ownPlaceholders() {
        return Solo5Arguments.PLACEHOLDERS;
    }

    @Override
    public Availability availability() {
        if (binary == null) {
            return Availability.no(tender.command + " not found on PATH or in /usr/local/bin; " + INSTALL + ", and put "
                    + tender.command + " on the agent's PATH");
        }
        if (elftool == null) {
            return Availability.no(
                    ELFTOOL + " not found on PATH or in /usr/local/bin; the driver reads each unikernel's devices with "
                            + "it, and it comes with the tenders: " + INSTALL + ", and put " + ELFTOOL
                            + " on the agent's PATH");
        }
        Optional<String> problem =
                (tender.kvm ? VmHost.kvmProblem(hostRoot) : Optional.<String>empty()).or(taps::problem);
        return problem.map(p -> Availability.no(tender.command + ": " + p))
                .orElseGet(() -> Availability.yes(binary + ", each guest on its own tap"));
    }

    @Override
    public InstanceHandle start(InstanceSpec spec) throws DriverException {
        Availability available = availability();
        if (!available.available()) throw new DriverException(available.detail());
        Path unikernel = VmHost.existing(spec.artifact(), "artifact", spec);
        List<String> args = Solo5Arguments.of(spec, Tap.forPort(spec.port()), unikernel);
        String what = spec.app() + " v" + spec.release();
        Solo5Manifest manifest = Solo5Manifest.query(elftool, unikernel, what);
        String net = networkDevice(manifest, what);
        Optional<String> block = blockDevice(manifest, spec, what);
        Path disk = block.isEmpty()
                ? null
                : PrivateDisk.copy(VmHost.existing(spec.initrd(), "initrd", spec), block.get(), spec);

        GuestNetwork network = GuestNetwork.open(taps, spec);
        Tap tap = network.tap();
        List<String> command = new ArrayList<>(
                List.of(binary.toString(), "--mem=" + VmHost.memoryMib(spec), "--net:" + net + "=" + tap.name()));
        block.ifPresent(name -> command.add("--block:" + name + "=" + disk));
        command.add("--");
        command.add(unikernel.toString());
        command.addAll(args);
        return VmmProcess.start(name(), spec, command, null, network);
    }

    @Override
    public Optional<InstanceHandle> recover(InstanceState state) {
        return VmmProcess.recover(name(), state, null, taps);
    }

    /** The manifest's one network device: the instance has one network, its tap, and is reached through it. */
    private static String networkDevice(Solo5Manifest manifest, String what) throws DriverException {
        List<String> nets = manifest.named(Solo5Manifest.Type.NET_BASIC);
        if (nets.isEmpty()) {
            throw new DriverException(
                    "the unikernel of " + what + " declares no network device (NET_BASIC) in its Solo5 manifest, so "
                            + "nothing could reach it: Mayfly sends every instance HTTP over its network; give it one (MirageOS: a network "
                            + "stack in config.ml)");
        }
        if (nets.size() > 1) {
            throw new DriverException("the unikernel of " + what + " declares " + nets.size() + " network devices ("
                    + String.join(", ", nets)
                    + ") in its Solo5 manifest; Mayfly gives each instance one network, a tap of its own, and has nothing to attach '"
                    + nets.get(1) + "' to: build the unikernel with a single network device");
        }
        return nets.getFirst();
    }

    /** The manifest's block device, if it declares one, which takes the release's initrd; and an initrd takes one. */
    private static Optional<String> blockDevice(Solo5Manifest manifest, InstanceSpec spec, String what)
            throws DriverException {
        List<String> blocks = manifest.named(Solo5Manifest.Type.BLOCK_BASIC);
        if (blocks.size() > 1) {
            throw new DriverException("the unikernel of " + what + " declares " + blocks.size() + " block devices ("
                    + String.join(", ", blocks)
                    + ") in its Solo5 manifest; Mayfly attaches one, the release's build.initrd, and has nothing to attach '"
                    + blocks.get(1) + "' to: build the unikernel with one block device at most");
        }
        if (blocks.size() == 1 && spec.initrd() == null) {
            throw new DriverException(
                    "the unikernel of " + what + " declares the block device '" + blocks.getFirst() + "' in its Solo5 "
                            + "manifest, but the release has no build.initrd to attach to it: set build.initrd to the disk image the build "
                            + "makes (the guest gets a private copy), or build the unikernel without the block device");
        }
        if (blocks.isEmpty() && spec.initrd() != null) {
            throw new DriverException(
                    what + " has a build.initrd, but its unikernel declares no block device (BLOCK_BASIC) in its "
                            + "Solo5 manifest to attach it to: remove build.initrd, or give the unikernel a block device");
        }
        return blocks.stream().findFirst();
    }
}
