package io.mayfly.agent.driver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What the Solo5, Xen and Firecracker drivers check on the host before they promise to run anything, and the
 * small conversions they share. The checks take the host's root directory ({@code /} in production) so that a
 * test can point them at a stand-in tree with a fake {@code dev/kvm} and {@code sys/class/net}.
 */
public final class VmHost {
    /** The environment variable that names the tap interface the Solo5 and Firecracker drivers attach guests to. */
    public static final String TAP_ENV = "MAYFLY_TAP";
    /** Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no '/', no whitespace. */
    private static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9_.:-]{1,15}");
    /** IFF_TAP in /sys/class/net/NAME/tun_flags: the device is a tap (layer 2), not a tun (layer 3). */
    private static final int IFF_TAP = 0x0002;

    private VmHost() {}

    /** The first executable {@code name} on the agent's PATH, then in {@code usualDirs} (sbin dirs are often not on PATH). */
    public static Optional<Path> executable(String name, String... usualDirs) {
        String path = System.getenv().getOrDefault("PATH", "");
        return Stream.concat(Arrays.stream(path.split(":")), Arrays.stream(usualDirs)).filter(d -> !d.isEmpty())
                .map(d -> Path.of(d, name)).filter(p -> Files.isRegularFile(p) && Files.isExecutable(p)).findFirst();
    }

    /** Why this host cannot run KVM guests ({@code root/dev/kvm} missing or not readable and writable), or empty. */
    public static Optional<String> kvmProblem(Path root) {
        Path kvm = root.resolve("dev/kvm");
        if (!Files.exists(kvm)) {
            return Optional.of(kvm + " does not exist: KVM is not available (enable virtualisation in the firmware and load kvm_intel or kvm_amd)");
        }
        if (!Files.isReadable(kvm) || !Files.isWritable(kvm)) {
            return Optional.of(kvm + " is not readable and writable by the agent's user: add it to the kvm group");
        }
        return Optional.empty();
    }

    /**
     * Why {@code tap} cannot be a guest's network (not configured, not an interface name, no such interface, not a
     * tap), or empty.
     */
    public static Optional<String> tapProblem(Path root, String tap) {
        String setting = TAP_ENV;
        String create = "create one with: ip tuntap add dev mayfly0 mode tap user $(id -un) && ip link set dev mayfly0 up"
                + ", give the host an address on it (ip addr add 10.0.0.1/24 dev mayfly0), then set " + setting + "=mayfly0";
        if (tap == null || tap.isBlank()) {
            return Optional.of("a tap device is required and none is configured: " + create);
        }
        if (!INTERFACE.matcher(tap).matches()) {
            return Optional.of(setting + "='" + tap + "' is not a network interface name (1-15 letters, digits, '.', '_', '-', ':')");
        }
        Path dev = root.resolve("sys/class/net").resolve(tap);
        if (!Files.isDirectory(dev)) {
            return Optional.of("the tap device " + tap + " (" + setting + ") does not exist: " + create);
        }
        try {
            String flags = Files.readString(dev.resolve("tun_flags")).trim();
            if ((Integer.decode(flags) & IFF_TAP) == 0) {
                return Optional.of(tap + " is a tun device, not a tap: " + create);
            }
        } catch (IOException | NumberFormatException e) {
            return Optional.of(tap + " is not a tun/tap device (no readable " + dev.resolve("tun_flags") + "): " + create);
        }
        return Optional.empty();
    }

    /** {@code file} as an absolute path, or a DriverException saying which of the instance's files is missing. */
    public static Path existing(Path file, String role, InstanceSpec spec) throws DriverException {
        Path absolute = file.toAbsolutePath();
        if (!Files.isRegularFile(absolute)) {
            throw new DriverException("the " + role + " of " + spec.app() + " v" + spec.release() + " is missing: " + absolute
                    + " is not a file; push the app again to rebuild it");
        }
        return absolute;
    }

    /** Appends {@code mayfly: LINE} to an instance's console log, so that whoever reads it sees what the driver did and why. */
    public static void log(Path logFile, String line) throws IOException {
        Files.createDirectories(logFile.toAbsolutePath().getParent());
        Files.writeString(logFile, "mayfly: " + line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** Guest memory in MiB as the hypervisors' tools take it: {@code run.memory} rounded down, at least 16 MiB. */
    public static long memoryMib(InstanceSpec spec) {
        return Math.max(16, spec.memoryBytes() >> 20);
    }
}
