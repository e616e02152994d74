package io.mayfly.agent.driver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Creates and removes the tap devices guests sit on, with {@code ip}, and says whether this host lets the agent do
 * so: {@code /dev/net/tun} must exist and the agent needs CAP_NET_ADMIN (as root, or as an ambient capability,
 * which the {@code ip} it runs then inherits). Checks take the host's root directory ({@code /} in production)
 * so that a test can point them at a stand-in tree.
 */
public final class TapDevices {
    /** Bit 12 of the capability sets in /proc/PID/status. */
    private static final int CAP_NET_ADMIN = 12;

    private static final Duration IP_TIMEOUT = Duration.ofSeconds(10);

    private final Path ip;
    private final Path hostRoot;

    /** {@code ip} on the agent's PATH or in /usr/sbin or /sbin, the real host. */
    public TapDevices() {
        this(VmHost.executable("ip", "/usr/sbin", "/sbin").orElse(null), Path.of("/"));
    }

    /** {@code ip} null means not installed; {@code hostRoot} is where dev/net/tun, proc/self/status and sys/class/net are read. */
    public TapDevices(Path ip, Path hostRoot) {
        this.ip = ip;
        this.hostRoot = hostRoot;
    }

    /** Why the agent cannot create tap devices here, with what to do about it, or empty. */
    public Optional<String> problem() {
        if (ip == null) {
            return Optional.of(
                    "ip not found on PATH or in /usr/sbin or /sbin; it creates the guests' tap devices: apt-get install iproute2");
        }
        Path tun = hostRoot.resolve("dev/net/tun");
        if (!Files.exists(tun)) {
            return Optional.of(
                    tun + " does not exist, so no tap device can be created: load the tun driver (modprobe tun)"
                            + "; in a container, pass the device in (docker run --device /dev/net/tun)");
        }
        return netAdminProblem();
    }

    /** Creating a tap takes CAP_NET_ADMIN, and the ip we run must have it too: root's survives exec, a non-root user's only if ambient. */
    private Optional<String> netAdminProblem() {
        Path status = hostRoot.resolve("proc/self/status");
        String uid = null;
        long effective = 0;
        long ambient = 0;
        try {
            for (String line : Files.readAllLines(status)) {
                String[] field = line.split("\\s+");
                switch (field[0]) {
                    case "Uid:" -> uid = field[2];
                    case "CapEff:" -> effective = Long.parseUnsignedLong(field[1], 16);
                    case "CapAmb:" -> ambient = Long.parseUnsignedLong(field[1], 16);
                    default -> {}
                }
            }
        } catch (IOException | RuntimeException e) {
            return Optional.of("cannot read the agent's capabilities from " + status + " (" + e.getMessage()
                    + "), so it is not known whether it may create tap devices");
        }
        boolean root = "0".equals(uid);
        if ((effective & (1L << CAP_NET_ADMIN)) == 0) {
            return Optional.of("the agent lacks CAP_NET_ADMIN, which creating tap devices takes: run it as root"
                    + (root
                            ? " with that capability (a container needs --cap-add NET_ADMIN)"
                            : ", or give it the capability as an"
                                    + " ambient one (systemd: AmbientCapabilities=CAP_NET_ADMIN)"));
        }
        if (!root && (ambient & (1L << CAP_NET_ADMIN)) == 0) {
            return Optional.of(
                    "the agent has CAP_NET_ADMIN, but not as an ambient capability, so the ip command it runs to "
                            + "create tap devices would not: grant it as ambient (systemd: AmbientCapabilities=CAP_NET_ADMIN) or run the agent as root");
        }
        return Optional.empty();
    }

    /** Whether an interface of this name exists on the host. */
    public boolean exists(String name) {
        return Files.isDirectory(hostRoot.resolve("sys/class/net").resolve(name));
    }

    /**
     * Creates {@code tap} with the host's address on it and brings it up. A tap of the same name that is already
     * there was left by an earlier instance on the same port, which has ended (or its port would not have been
     * free): it is removed first. The tap is removed again if any step after its creation fails.
     */
    public void create(Tap tap) throws DriverException {
        if (exists(tap.name())) {
            ip(tap, "remove the leftover tap device " + tap.name(), "tuntap", "del", "dev", tap.name(), "mode", "tap");
        }
        ip(tap, "create the tap device " + tap.name(), "tuntap", "add", "dev", tap.name(), "mode", "tap");
        try {
            ip(
                    tap,
                    "give the tap device " + tap.name() + " the host's address",
                    "addr",
                    "add",
                    tap.hostCidr(),
                    "dev",
                    tap.name());
            ip(tap, "bring the tap device " + tap.name() + " up", "link", "set", "dev", tap.name(), "up");
        } catch (DriverException e) {
            try {
                remove(tap);
            } catch (DriverException ignored) {
                // the first failure is the one to report
            }
            throw e;
        }
    }

    /** Removes {@code tap} if it exists. Fails while a process (a guest still running) holds it. */
    public void remove(Tap tap) throws DriverException {
        // Checked first: ip tuntap del of a missing name would create the tap only to delete it again.
        if (exists(tap.name()))
            ip(tap, "remove the tap device " + tap.name(), "tuntap", "del", "dev", tap.name(), "mode", "tap");
    }

    private void ip(Tap tap, String purpose, String... args) throws DriverException {
        if (ip == null)
            throw new DriverException("cannot " + purpose + ": " + problem().orElse("ip is not installed"));
        List<String> command = new ArrayList<>(List.of(ip.toString()));
        command.addAll(List.of(args));
        HostCommand.Result result;
        try {
            result = HostCommand.run(IP_TIMEOUT, command);
        } catch (IOException e) {
            throw new DriverException("cannot " + purpose + ": cannot run " + ip + ": " + e.getMessage(), e);
        }
        if (!result.ok()) {
            throw new DriverException("cannot " + purpose + ": ip " + String.join(" ", args) + " failed (exit "
                    + result.exit() + "): " + result.output() + remedy(result.output(), tap));
        }
    }

    /** What to do about the failures ip reports most often. */
    private static String remedy(String output, Tap tap) {
        if (output.contains("Operation not permitted")) {
            return "; the agent needs CAP_NET_ADMIN to manage tap devices: run it as root";
        }
        if (output.contains("Device or resource busy")) {
            return "; a process still holds " + tap.name()
                    + " (a guest that is still running?): find it with grep -ls 'iff:." + tap.name()
                    + "$' /proc/[0-9]*/fdinfo/*";
        }
        return "";
    }
}
