package io.mayfly.server.build;

import io.mayfly.sandbox.Sandbox;
import io.mayfly.wire.Human;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the operator of a host allows the builds that run there, whatever a manifest asks: the host directories a
 * build may read ({@code [build] host_paths} must name one of them or a path inside one), the limits of each build,
 * and the longest time one may take. Directories that hold secrets can never be allowed: the server's data directory,
 * {@code /root}, {@code /etc} and the like.
 *
 * @param diskBytes the most the build directory may hold (checkout and everything the build writes)
 */
public record BuildPolicy(List<Path> hostPaths, Sandbox.Limits limits, long diskBytes, Duration maxTimeout) {
    public static final List<Path> DEFAULT_HOST_PATHS = List.of(Path.of("/boot"), Path.of("/lib/modules"));
    public static final long DEFAULT_MEMORY = 2L << 30;
    public static final long DEFAULT_PROCESSES = 512;
    public static final long DEFAULT_TMP = 512L << 20;
    public static final long DEFAULT_DISK = 2L << 30;
    public static final Duration DEFAULT_MAX_TIMEOUT = Duration.ofHours(1);
    /** Never shared with a build, nor anything above them. */
    private static final List<Path> SECRET = List.of(
            Path.of("/root"),
            Path.of("/etc"),
            Path.of("/home"),
            Path.of("/proc"),
            Path.of("/sys"),
            Path.of("/dev"),
            Path.of("/run"),
            Path.of("/var/lib"),
            Path.of("/var/run"));

    public BuildPolicy {
        hostPaths = List.copyOf(hostPaths);
    }

    /** The defaults: /boot and /lib/modules, 2 GiB of memory, 512 processes, 512 MiB of /tmp, 2 GiB of disk, 1 h. */
    public static BuildPolicy defaults(Path dataDir) {
        return of(
                DEFAULT_HOST_PATHS,
                DEFAULT_MEMORY,
                DEFAULT_PROCESSES,
                DEFAULT_TMP,
                DEFAULT_DISK,
                DEFAULT_MAX_TIMEOUT,
                dataDir);
    }

    /**
     * A policy from the operator's settings; throws IllegalArgumentException, naming the path, when one of the host
     * paths is, holds or lies inside the data directory or a directory of secrets.
     */
    public static BuildPolicy of(
            List<Path> hostPaths,
            long memoryBytes,
            long processes,
            long tmpBytes,
            long diskBytes,
            Duration maxTimeout,
            Path dataDir) {
        List<Path> forbidden = new ArrayList<>(SECRET);
        if (dataDir != null) forbidden.add(real(dataDir.toAbsolutePath().normalize()));
        List<Path> allowed = new ArrayList<>();
        for (Path p : hostPaths) {
            if (!p.isAbsolute())
                throw new IllegalArgumentException("build host path " + p + " must be absolute, like /boot");
            Path normal = real(p.normalize());
            for (Path secret : forbidden) {
                if (normal.startsWith(secret) || secret.startsWith(normal)) {
                    throw new IllegalArgumentException(
                            "build host path " + p + (normal.equals(p.normalize()) ? "" : " (" + normal + ")")
                                    + " cannot be shared with builds: it "
                                    + (secret.startsWith(normal) ? "holds " : "lies inside ") + secret
                                    + (secret.equals(forbidden.getLast()) && dataDir != null
                                            ? ", the server's data directory"
                                            : ", where secrets live"));
                }
            }
            allowed.add(p.normalize());
        }
        return new BuildPolicy(
                allowed, new Sandbox.Limits(memoryBytes, processes, tmpBytes, diskBytes), diskBytes, maxTimeout);
    }

    /** Why the manifest's host paths cannot be granted, for the pusher, or empty when they all can. */
    public Optional<String> refuseHostPaths(List<String> asked) {
        for (String a : asked) {
            Path p = Path.of(a).normalize();
            // The real path: a link inside an allowed directory must not lead out of it.
            Path target = real(p);
            boolean ok = hostPaths.stream()
                    .anyMatch(allowed ->
                            (p.startsWith(allowed) || p.startsWith(real(allowed))) && target.startsWith(real(allowed)));
            if (!ok) {
                return Optional.of("mayfly.toml: [build] host_paths asks for " + a
                        + (target.equals(p) ? "" : " (which leads to " + target + ")")
                        + ", which this server does not share with builds; it shares "
                        + (hostPaths.isEmpty()
                                ? "nothing"
                                : String.join(
                                        ", ",
                                        hostPaths.stream().map(Path::toString).toList()))
                        + " (the operator chooses them with --build-host-path)");
            }
        }
        return Optional.empty();
    }

    /**
     * Why the manifest's build timeout is refused, or empty. The default a manifest gets when it names none is never
     * refused: a server that allows less cuts it to its maximum ({@link #timeout}).
     */
    public Optional<String> refuseTimeout(Duration asked) {
        if (asked.compareTo(maxTimeout) <= 0 || asked.equals(DEFAULT_MANIFEST_TIMEOUT)) return Optional.empty();
        return Optional.of("mayfly.toml: [build] timeout = " + asked.toSeconds()
                + "s is longer than this server allows for a build (" + maxTimeout.toSeconds()
                + "s); shorten it, or ask the operator to raise --build-max-timeout");
    }

    /** The build timeout a manifest gets when it names none. */
    private static final Duration DEFAULT_MANIFEST_TIMEOUT =
            io.mayfly.wire.manifest.Manifest.defaults(null).build().timeout();

    /** The time a build asking for {@code asked} gets here: at most the server's maximum. */
    public Duration timeout(Duration asked) {
        return asked.compareTo(maxTimeout) <= 0 ? asked : maxTimeout;
    }

    /** The limits in one line, for the build's log. */
    public String describe() {
        return "memory " + Human.size(limits.memoryBytes()) + ", " + limits.processes() + " processes, /tmp "
                + Human.size(limits.tmpBytes()) + ", build directory " + Human.size(diskBytes) + ", at most "
                + maxTimeout.toMinutes() + " min";
    }

    private static Path real(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p; // missing: bubblewrap's --ro-bind-try skips it
        }
    }
}
