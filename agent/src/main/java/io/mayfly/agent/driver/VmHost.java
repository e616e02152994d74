package io.mayfly.agent.driver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What the Solo5, Xen and Firecracker drivers check on the host before they promise to run anything (their tools,
 * KVM; the right to create taps is {@link TapDevices}'), and the small conversions they share. The checks take the
 * host's root directory ({@code /} in production) so that a test can point them at a stand-in tree with a fake
 * {@code dev/kvm}.
 */
public final class VmHost {
    private VmHost() {}

    /** The first executable {@code name} on the agent's PATH, then in {@code usualDirs} (sbin dirs are often not on PATH). */
    public static Optional<Path> executable(String name, String... usualDirs) {
        String path = System.getenv().getOrDefault("PATH", "");
        return Stream.concat(Arrays.stream(path.split(":")), Arrays.stream(usualDirs))
                .filter(d -> !d.isEmpty())
                .map(d -> Path.of(d, name))
                .filter(p -> Files.isRegularFile(p) && Files.isExecutable(p))
                .findFirst();
    }

    /** Why this host cannot run KVM guests ({@code root/dev/kvm} missing or not readable and writable), or empty. */
    public static Optional<String> kvmProblem(Path root) {
        Path kvm = root.resolve("dev/kvm");
        if (!Files.exists(kvm)) {
            return Optional.of(
                    kvm
                            + " does not exist: KVM is not available (enable virtualisation in the firmware and load kvm_intel or kvm_amd)");
        }
        if (!Files.isReadable(kvm) || !Files.isWritable(kvm)) {
            return Optional.of(kvm + " is not readable and writable by the agent's user: add it to the kvm group");
        }
        return Optional.empty();
    }

    /** {@code file} as an absolute path, or a DriverException saying which of the instance's files is missing. */
    public static Path existing(Path file, String role, InstanceSpec spec) throws DriverException {
        Path absolute = file.toAbsolutePath();
        if (!Files.isRegularFile(absolute)) {
            throw new DriverException("the " + role + " of " + spec.app() + " v" + spec.release() + " is missing: "
                    + absolute + " is not a file; push the app again to rebuild it");
        }
        return absolute;
    }

    /** Appends {@code mayfly: LINE} to an instance's console log, so that whoever reads it sees what the driver did and why. */
    public static void log(Path logFile, String line) throws IOException {
        Files.createDirectories(logFile.toAbsolutePath().getParent());
        Files.writeString(logFile, "mayfly: " + line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** As {@link #log}, for a line that is a courtesy: one that cannot be written is left out, and what the driver does goes on. */
    public static void note(Path logFile, String line) {
        try {
            log(logFile, line);
        } catch (IOException ignored) {
            // the log is a courtesy
        }
    }

    /** Guest memory in MiB as the hypervisors' tools take it: {@code run.memory} rounded down, at least 16 MiB. */
    public static long memoryMib(InstanceSpec spec) {
        return Math.max(16, spec.memoryBytes() >> 20);
    }
}
