package io.mayfly.agent.driver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * For testing drivers whose real tools (Solo5's tenders, xl, firecracker) are not installed where Mayfly is
 * developed: stand-in scripts, a stand-in host tree (dev/kvm, sys/class/net/TAP), instance specs.
 */
public final class StandIns {
    /** The tap the stand-in host tree has. */
    public static final String TAP = "mayfly0";

    private StandIns() {}

    /** Writes an executable stand-in script {@code dir/name}. */
    public static Path script(Path dir, String name, String text) throws IOException {
        Path script = Files.createDirectories(dir).resolve(name);
        Files.writeString(script, text);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    /** A stand-in for the host's root directory: a usable dev/kvm and a tap device {@link #TAP} in sys/class/net. */
    public static Path host(Path dir) throws IOException {
        Path root = dir.resolve("host");
        Files.createDirectories(root.resolve("dev"));
        Files.writeString(root.resolve("dev/kvm"), "");
        Path tap = Files.createDirectories(root.resolve("sys/class/net").resolve(TAP));
        Files.writeString(tap.resolve("tun_flags"), "0x1002\n"); // IFF_TAP | IFF_NO_PI, as the kernel shows a tap
        return root;
    }

    /** A spec for instance {@code id} of app hello v3, 128 MiB, 2 vCPUs, guest port 8080, its files under {@code dir}. */
    public static InstanceSpec spec(Path dir, String id, Path artifact, Path initrd, List<String> args) {
        Path stateDir = dir.resolve("instances").resolve(id);
        int port = Ports.freeLoopbackPort();
        return new InstanceSpec(id, "hello", 3, artifact, initrd, args, Map.of("PORT", Integer.toString(port)), 128L << 20,
                port, 8080, stateDir.resolve("console.log"), stateDir, Duration.ofSeconds(5), 2);
    }

    /** Waits up to 10 s for {@code file} to contain {@code text}; returns the file's contents. */
    public static String await(Path file, String text) throws IOException, InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < end) {
            if (Files.exists(file) && Files.readString(file).contains(text)) return Files.readString(file);
            Thread.sleep(20);
        }
        throw new AssertionError(file + " never showed \"" + text + "\"; it has:\n" + (Files.exists(file) ? Files.readString(file) : "(no file)"));
    }
}
