package io.mayfly.agent.driver.qemu;

import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceSpec;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.InstanceStateFile;
import io.mayfly.agent.driver.ProcessStat;
import io.mayfly.agent.driver.VmHost;
import io.mayfly.sandbox.Network;
import io.mayfly.sandbox.Pasta;
import io.mayfly.sandbox.Sandbox;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Boots an instance as a virtual machine under QEMU: a kernel (with an optional initrd and the instance's
 * arguments as its command line), or a raw/qcow2 disk image such as a MirageOS virtio build. {@code -M microvm}
 * with virtio-mmio devices where QEMU has it, {@code -M pc} otherwise. KVM unless a guest failed under it here: every
 * KVM boot is watched ({@link KvmWatch}), and one KVM fails is booted again under software emulation (TCG) at
 * once, as later boots are ({@link AcceleratorVerdict}, in the driver's state directory). The guest's port is reached through QEMU user-mode networking: a
 * host-forward from the agent's loopback port to {@code guest_port}; the guest is 10.0.2.15/24, gateway 10.0.2.2
 * (QEMU's built-in DHCP also answers). The serial console goes to the instance log; a QMP socket in the instance
 * directory is used to power the guest down and to re-adopt it after an agent restart.
 */
public final class QemuDriver implements Driver {
    public static final String NAME = "qemu";

    private final Path qemu;
    private final Path setsid;
    private final Path stateDir;
    private final Path hostRoot;
    /** Gives QEMU a network namespace of its own (null: QEMU shares the agent's, as without root). */
    private final Pasta pasta;
    /** Each instance's pasta while its QEMU runs, so that a QEMU started again in its place gets the port. */
    private final java.util.Map<String, Process> joined = new java.util.concurrent.ConcurrentHashMap<>();

    private volatile Boolean microvm;

    /** QEMU from Debian's package, keeping what it learns about this host (whether KVM runs guests) in {@code stateDir}. */
    public QemuDriver(Path stateDir) {
        this(executable("/usr/bin/qemu-system-x86_64"), executable("/usr/bin/setsid"), stateDir);
    }

    QemuDriver(Path qemu, Path setsid, Path stateDir) {
        this(qemu, setsid, stateDir, Path.of("/"));
    }

    /** {@code hostRoot}: where {@code dev/kvm} is looked for ({@code /}, or a test's stand-in tree). */
    QemuDriver(Path qemu, Path setsid, Path stateDir, Path hostRoot) {
        this.qemu = qemu;
        this.setsid = setsid;
        this.stateDir = stateDir;
        this.hostRoot = hostRoot;
        // unshare needs root (CAP_SYS_ADMIN); pasta joins the namespace to the host's.
        this.pasta = Sandbox.isRoot() && Files.isExecutable(UNSHARE) && Files.isExecutable(IP)
                ? Pasta.onThisHost(true)
                : null;
    }

    private static final Path UNSHARE = Path.of("/usr/bin/unshare");
    private static final Path IP = Path.of("/usr/sbin/ip");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Availability availability() {
        if (qemu == null)
            return Availability.no("qemu-system-x86_64 not found; install it with: apt-get install qemu-system-x86");
        Accelerator accel = accelerator();
        return Availability.yes(
                (accel.learnt()
                                ? accel.detail()
                                : accel.kvm()
                                        ? "KVM not proven here yet: the next VM boots under KVM, watched, and under TCG (software emulation) if KVM fails it"
                                        : accel.detail())
                        + "; machine " + (hasMicrovm() ? "microvm" : "pc")
                        + (pasta != null
                                ? "; guests in a network of their own (pasta)"
                                : "; guests reach the host's loopback through 10.0.2.2 (keeping them apart needs root, unshare, ip and pasta)"));
    }

    /** Forgets whether KVM runs guests here: the next VM boots under KVM again, watched. */
    @Override
    public void reprobe() throws IOException {
        AcceleratorVerdict.forget(stateDir);
    }

    /** The accelerator of the next boot and why; {@code learnt}: from a verdict this host's guests gave. */
    private record Accelerator(boolean kvm, String detail, boolean learnt) {}

    private Accelerator accelerator() {
        Optional<String> noKvm = VmHost.kvmProblem(hostRoot);
        if (noKvm.isPresent()) return new Accelerator(false, "TCG (software emulation): " + noKvm.get(), false);
        return AcceleratorVerdict.read(stateDir)
                .map(v -> new Accelerator(v.isKvm(), v.detail(), true))
                .orElse(new Accelerator(
                        true, "KVM, watched: no guest has shown yet whether KVM runs guests on this host", false));
    }

    @Override
    public InstanceHandle start(InstanceSpec spec) throws DriverException {
        if (qemu == null) throw new DriverException(availability().detail());
        Path image = spec.artifact().toAbsolutePath();
        Kind kind = kind(image);
        Accelerator accel = accelerator();
        Path qmp = spec.stateDir().resolve("qmp.sock");
        try {
            Files.createDirectories(spec.stateDir());
            Files.deleteIfExists(qmp);
        } catch (IOException e) {
            throw new DriverException("cannot prepare " + spec.stateDir() + ": " + e.getMessage(), e);
        }
        boolean micro = kind == Kind.KERNEL && hasMicrovm();
        Launched launched;
        try {
            launched = launch(spec, image, kind, micro, accel.kvm(), accel.detail());
        } catch (IOException e) {
            throw new DriverException("cannot start QEMU for " + spec.id() + ": " + e.getMessage(), e);
        }
        Process process = launched.process();
        long ticks =
                ProcessStat.read(process.pid()).map(ProcessStat::startTicks).orElse(0L);
        InstanceState state = new InstanceState(
                spec.id(),
                spec.app(),
                spec.release(),
                NAME,
                process.pid(),
                ticks,
                spec.port(),
                spec.logFile(),
                spec.stateDir(),
                Instant.now());
        QemuInstanceHandle handle = accel.kvm()
                ? QemuInstanceHandle.watched(
                        state,
                        process,
                        qmp,
                        () -> launch(
                                        spec,
                                        image,
                                        kind,
                                        micro,
                                        false,
                                        "TCG (software emulation), " + "as KVM failed this guest")
                                .process())
                : QemuInstanceHandle.started(state, process, qmp);
        try {
            InstanceStateFile.write(InstanceStateFile.in(spec.stateDir()), state);
        } catch (IOException e) {
            handle.stop(java.time.Duration.ZERO);
            throw new DriverException(
                    "cannot record the state of " + spec.id() + ": " + e.getMessage() + "; the VM was stopped", e);
        }
        if (accel.kvm()) KvmWatch.start(handle, launched.consoleFrom(), image, stateDir);
        return handle;
    }

    /** A QEMU process, and where its output begins in the console log (after Mayfly's line about it). */
    private record Launched(Process process, long consoleFrom) {}

    private Launched launch(InstanceSpec spec, Path image, Kind kind, boolean micro, boolean kvm, String why)
            throws IOException {
        Path qmp = spec.stateDir().resolve("qmp.sock");
        List<String> cmd = new ArrayList<>();
        if (setsid != null) cmd.add(setsid.toString()); // its own session: the agent's terminal signals do not reach it
        // QEMU's user-mode network takes the guest's connections to 10.0.2.2 to the loopback of QEMU's own namespace:
        // in a namespace of its own, that holds nothing but QEMU's forward, never the host's API, router or instances.
        // unshare and sh exec in place, so the recorded pid is QEMU's.
        if (pasta != null) {
            cmd.addAll(List.of(
                    UNSHARE.toString(), "--net", "--", "/bin/sh", "-c", IP + " link set lo up && exec \"$@\"", "qemu"));
        }
        String restrict = spec.network() ? "" : ",restrict=on"; // [run] network = false: the guest connects nowhere
        cmd.addAll(List.of(
                qemu.toString(),
                "-name",
                spec.id(),
                "-accel",
                kvm ? "kvm" : "tcg",
                "-M",
                micro ? "microvm" : "pc",
                "-m",
                Long.toString(Math.max(16, spec.memoryBytes() >> 20)),
                "-smp",
                Integer.toString(Math.max(1, spec.vcpus())),
                "-nodefaults",
                "-no-user-config",
                "-display",
                "none",
                "-no-reboot",
                "-chardev",
                "file,id=console,path=" + spec.logFile().toAbsolutePath() + ",append=on",
                "-serial",
                "chardev:console",
                "-netdev",
                "user,id=net0" + restrict + ",hostfwd=tcp:127.0.0.1:" + spec.port() + "-:" + spec.guestPort(),
                "-device",
                micro ? "virtio-net-device,netdev=net0" : "virtio-net-pci,netdev=net0",
                "-qmp",
                "unix:" + qmp + ",server=on,wait=off"));
        if (kind == Kind.KERNEL) {
            cmd.addAll(List.of("-kernel", image.toString()));
            if (spec.initrd() != null)
                cmd.addAll(List.of("-initrd", spec.initrd().toAbsolutePath().toString()));
            List<String> append = new ArrayList<>(List.of("console=ttyS0", "quiet", "panic=-1"));
            // Under TCG a Linux guest calibrates its TSC against the emulated PIT; on a busy host that fails and the
            // kernel then hangs before its first line. The guest's TSC is the host's, so tell it the frequency.
            if (!kvm && LinuxKernel.is(image))
                LinuxKernel.hostTscKhz().ifPresent(khz -> append.add("tsc_early_khz=" + khz));
            append.addAll(spec.args());
            cmd.addAll(List.of("-append", String.join(" ", append)));
        } else {
            // snapshot=on: the guest writes to a temporary overlay, never to the stored (content-addressed) image.
            cmd.addAll(List.of(
                    "-drive",
                    "file=" + image + ",format=" + (kind == Kind.QCOW2 ? "qcow2" : "raw") + ",if=virtio,snapshot=on"));
        }
        VmHost.log(spec.logFile(), "booting " + spec.id() + " under QEMU (" + why + ")");
        long consoleFrom = Files.size(spec.logFile());
        Process process = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(spec.logFile().toFile()))
                .directory(spec.stateDir().toFile())
                .start();
        if (pasta != null) {
            try {
                // The host's port reaches QEMU's forward inside; QEMU's own connections out leave through pasta. An
                // earlier
                // QEMU of this instance (a KVM boot that failed) leaves its pasta holding the port: it goes first.
                Process earlier = joined.remove(spec.id());
                if (earlier != null && earlier.isAlive()) {
                    earlier.destroy();
                    earlier.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
                }
                Process net = Sandbox.join(
                        pasta,
                        process.pid(),
                        process,
                        new Network(spec.network(), List.of(spec.port()), List.of()),
                        spec.stateDir());
                joined.put(spec.id(), net);
                net.onExit().thenRun(() -> joined.remove(spec.id(), net));
            } catch (IOException e) {
                process.destroyForcibly();
                throw e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
                throw new IOException("interrupted while the VM's network was set up", e);
            }
        }
        return new Launched(process, consoleFrom);
    }

    @Override
    public Optional<InstanceHandle> recover(InstanceState state) {
        if (!NAME.equals(state.driver()) || !ProcessStat.running(state.pid(), state.startTicks()))
            return Optional.empty();
        Path qmp = state.stateDir().resolve("qmp.sock");
        return ProcessHandle.of(state.pid()).map(p -> QemuInstanceHandle.adopted(state, p, qmp));
    }

    /** What kind of image an artifact is, by its first bytes. */
    enum Kind {
        KERNEL,
        RAW,
        QCOW2
    }

    static Kind kind(Path image) throws DriverException {
        byte[] head = new byte[0x210];
        try (InputStream in = Files.newInputStream(image)) {
            int n = in.readNBytes(head, 0, head.length);
            head = Arrays.copyOf(head, n);
        } catch (IOException e) {
            throw new DriverException("cannot read the image " + image + ": " + e.getMessage(), e);
        }
        if (head.length >= 4 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F')
            return Kind.KERNEL;
        if (head.length >= 0x206
                && head[0x202] == 'H'
                && head[0x203] == 'd'
                && head[0x204] == 'r'
                && head[0x205] == 'S') return Kind.KERNEL;
        if (head.length >= 4 && head[0] == 'Q' && head[1] == 'F' && head[2] == 'I' && (head[3] & 0xff) == 0xfb)
            return Kind.QCOW2;
        return Kind.RAW;
    }

    private boolean hasMicrovm() {
        Boolean known = microvm;
        if (known == null) {
            try {
                Process p = new ProcessBuilder(qemu.toString(), "-M", "help")
                        .redirectErrorStream(true)
                        .start();
                known = new String(p.getInputStream().readAllBytes()).contains("microvm");
                p.waitFor();
            } catch (IOException e) {
                known = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                known = false;
            }
            microvm = known;
        }
        return known;
    }

    private static Path executable(String path) {
        Path p = Path.of(path);
        return Files.isExecutable(p) ? p : null;
    }
}
