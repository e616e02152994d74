package io.mayfly.agent.driver.xen;

import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.driver.HostCommand;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceSpec;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.InstanceStateFile;
import io.mayfly.agent.driver.VmHost;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Boots a kernel (a MirageOS/Solo5 Xen unikernel, a Linux vmlinux) as a PVH domain with Xen's {@code xl}: writes an
 * xl domain config into the instance directory, creates the domain paused ({@code xl create -q -p CONFIG}), attaches
 * {@code xl console NAME} to copy its console into the instance log ({@link XenConsole}), then unpauses it, so that
 * the log holds the guest's first line too. The domain is named after the instance and lives in the hypervisor, not
 * in any process of ours, so the instance has no pid (0 in its state); a restarted agent finds it again with
 * {@code xl list NAME} and attaches to its console again.
 *
 * <p>The guest's network interface is bridged ({@code vif = [ 'bridge=xenbr0' ]}, the bridge from
 * {@code MAYFLY_XEN_BRIDGE}); its address comes from that network (DHCP, or static in its arguments). Mayfly does
 * not forward the agent's loopback port to it, so no HTTP or TCP health check can reach it: its health is checked by
 * its console ({@code [health] console}).
 */
public final class XenDriver implements Driver {
    public static final String NAME = "xen";
    static final String CONFIG = "xl.cfg";
    static final String BRIDGE_ENV = "MAYFLY_XEN_BRIDGE";
    private static final Duration CREATE_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration UNPAUSE_TIMEOUT = Duration.ofSeconds(10);

    private final Xl xl;
    private final String bridge;
    private volatile Availability availability;

    /** xl on the agent's PATH or in /usr/sbin (where Debian's xen-utils put it), the bridge from MAYFLY_XEN_BRIDGE or xenbr0. */
    public XenDriver() {
        this(
                VmHost.executable("xl", "/usr/sbin", "/usr/local/sbin").orElse(null),
                Optional.ofNullable(System.getenv(BRIDGE_ENV))
                        .filter(b -> !b.isBlank())
                        .orElse("xenbr0"));
    }

    /** {@code xl} null means not installed. */
    XenDriver(Path xl, String bridge) {
        this.xl = xl == null ? null : new Xl(xl);
        this.bridge = bridge;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Availability availability() {
        Availability a = availability;
        if (a == null) a = availability = probe();
        return a;
    }

    /** xl is often installed on a host that is not running under Xen; only a working {@code xl list} proves it is dom0. */
    private Availability probe() {
        if (xl == null) {
            return Availability.no("xl not found on PATH or in /usr/sbin; install Xen and boot the host into it: "
                    + "apt-get install xen-system-amd64, then reboot and choose the Xen entry in GRUB");
        }
        try {
            HostCommand.Result list = xl.run(Duration.ofSeconds(10), "list");
            if (!list.ok()) {
                return Availability.no(
                        "xl list failed (" + list.output() + "): the agent must run as root in dom0 of a host "
                                + "booted into Xen, with xencommons running");
            }
            return Availability.yes(xl.binary() + ", domains on bridge " + bridge);
        } catch (IOException e) {
            return Availability.no("cannot run " + xl.binary() + ": " + e.getMessage());
        }
    }

    @Override
    public InstanceHandle start(InstanceSpec spec) throws DriverException {
        Availability available = availability();
        if (!available.available()) throw new DriverException(available.detail());
        Path kernel = VmHost.existing(spec.artifact(), "artifact", spec);
        Path initrd = spec.initrd() == null ? null : VmHost.existing(spec.initrd(), "initrd", spec);
        Path config = spec.stateDir().toAbsolutePath().resolve(CONFIG);
        try {
            Files.createDirectories(config.getParent());
            Files.write(config, config(spec, kernel, initrd, bridge));
        } catch (IOException e) {
            throw new DriverException(
                    "cannot write the xl config of " + spec.id() + " to " + config + ": " + e.getMessage(), e);
        }
        // Paused until its console is attached: a guest that fails at once says why in its first lines.
        HostCommand.Result created = xl(spec, CREATE_TIMEOUT, "create", "-q", "-p", config.toString());
        if (!created.ok()) {
            throw new DriverException(
                    "xl create " + config + " failed (exit " + created.exit() + "): " + created.output());
        }
        InstanceState state = new InstanceState(
                spec.id(),
                spec.app(),
                spec.release(),
                NAME,
                0,
                0,
                spec.port(),
                spec.logFile(),
                spec.stateDir(),
                Instant.now());
        XenDomain domain =
                XenDomain.watch(state, xl, XenConsole.attach(xl, spec.id(), spec.logFile(), spec.stateDir()));
        try {
            VmHost.log(
                    spec.logFile(),
                    "created Xen domain " + spec.id() + " from " + config + " on bridge " + bridge
                            + "; its console is copied here (xl console " + spec.id()
                            + "). Mayfly reaches it on no port: check its health "
                            + "with [health] console; 127.0.0.1:" + spec.port()
                            + ", where the router sends its requests, reaches it only if "
                            + "the host forwards that port to the guest's address, port " + spec.guestPort());
            InstanceStateFile.write(InstanceStateFile.in(spec.stateDir()), state);
        } catch (IOException e) {
            // A domain whose state is not on disk would be orphaned by the next agent restart.
            domain.stop(Duration.ZERO);
            throw new DriverException(
                    "cannot record the state of " + spec.id() + " in " + spec.stateDir() + ": " + e.getMessage()
                            + "; the domain was destroyed",
                    e);
        }
        HostCommand.Result unpaused;
        try {
            unpaused = xl(spec, UNPAUSE_TIMEOUT, "unpause", spec.id());
        } catch (DriverException e) {
            domain.stop(Duration.ZERO);
            throw e;
        }
        if (!unpaused.ok()) {
            domain.stop(Duration.ZERO);
            throw new DriverException("xl unpause " + spec.id() + " failed (exit " + unpaused.exit() + "): "
                    + unpaused.output() + "; the domain was destroyed");
        }
        return domain;
    }

    /** Runs {@code xl ARGS} for {@code spec}'s instance; an xl that cannot be run at all is a DriverException. */
    private HostCommand.Result xl(InstanceSpec spec, Duration timeout, String... args) throws DriverException {
        try {
            return xl.run(timeout, args);
        } catch (IOException e) {
            throw new DriverException(
                    "cannot run " + xl.binary() + " " + args[0] + " for " + spec.id() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<InstanceHandle> recover(InstanceState state) {
        if (xl == null || !NAME.equals(state.driver())) return Optional.empty();
        try {
            if (!xl.listed(state.id())) return Optional.empty();
            return Optional.of(
                    XenDomain.watch(state, xl, XenConsole.attach(xl, state.id(), state.logFile(), state.stateDir())));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * The xl domain config, one setting a line. xl's config strings are quoted, so a value holding a quote, a
     * backslash or a line break is refused rather than escaped in a way xl might read differently.
     */
    static List<String> config(InstanceSpec spec, Path kernel, Path initrd, String bridge) throws DriverException {
        List<String> lines = new ArrayList<>();
        lines.add("name = " + quoted(spec.id(), "the instance id"));
        lines.add("type = \"pvh\"");
        lines.add("kernel = " + quoted(kernel.toString(), "the artifact's path"));
        if (initrd != null) lines.add("ramdisk = " + quoted(initrd.toString(), "the initrd's path"));
        lines.add("extra = " + quoted(String.join(" ", spec.args()), "run.args"));
        lines.add("memory = " + VmHost.memoryMib(spec));
        lines.add("vcpus = " + Math.max(1, spec.vcpus()));
        lines.add("vif = [ " + quoted("bridge=" + bridge, BRIDGE_ENV).replace('"', '\'') + " ]");
        lines.add("on_crash = \"destroy\"");
        return lines;
    }

    private static String quoted(String value, String what) throws DriverException {
        if (value.chars().anyMatch(c -> c == '"' || c == '\'' || c == '\\' || c < 0x20)) {
            throw new DriverException(
                    what + " (" + value + ") holds a quote, a backslash or a control character, which an xl "
                            + "domain config cannot carry safely; remove it");
        }
        return "\"" + value + "\"";
    }
}
