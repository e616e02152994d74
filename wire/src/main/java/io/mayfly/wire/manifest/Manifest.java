package io.mayfly.wire.manifest;

import java.time.Duration;
import java.util.List;

/**
 * {@code mayfly.toml}: how to build an app, run it, know it is healthy and test it before it gets traffic.
 * {@link #parse} checks every key and value and reports the first problem with its file, line and key.
 */
public record Manifest(Build build, Run run, Health health, Test test) {

    /** @param command null for a MirageOS project (config.ml), whose recipe is known */
    public record Build(
            String command,
            String artifact,
            String initrd,
            boolean network,
            List<String> hostPaths,
            Duration timeout,
            String schedule) {}

    /**
     * @param network         whether an instance may connect out (never to the host's loopback); it is reached on its port either way
     * @param requestTimeout  the router's longest pause in a request body from a client (null: the router's default)
     * @param responseTimeout the router's longest wait for an instance's response, or pause in it (null: the default)
     * @param idleTimeout     how long the router keeps an idle client connection open (null: the default)
     */
    public record Run(
            String driver,
            List<String> args,
            long memoryBytes,
            int vcpus,
            int instances,
            int guestPort,
            Duration drainTimeout,
            Duration idleStop,
            String strategy,
            boolean network,
            Duration requestTimeout,
            Duration responseTimeout,
            Duration idleTimeout) {
        public Run withStrategy(String other) {
            return new Run(
                    driver,
                    args,
                    memoryBytes,
                    vcpus,
                    instances,
                    guestPort,
                    drainTimeout,
                    idleStop,
                    other,
                    network,
                    requestTimeout,
                    responseTimeout,
                    idleTimeout);
        }
    }

    /**
     * One of: an HTTP GET of {@code path}, a TCP connect ({@code tcp}), or a {@code console} line matching a regex; all
     * of them answered by the guest itself. {@code liveness}: after the switch, how long the previous release stands by
     * while the new one must stay up and healthy, or traffic goes back to it ({@link Duration#ZERO}: stopped at once).
     */
    public record Health(
            String path,
            int status,
            boolean tcp,
            String console,
            Duration timeout,
            Duration interval,
            Duration tryTimeout,
            Duration liveness) {}

    /** @param command null when there is no staged test */
    public record Test(String command, Duration timeout) {}

    public static final List<String> DRIVERS =
            List.of("process", "qemu", "solo5-hvt", "solo5-spt", "xen", "firecracker");
    public static final List<String> STRATEGIES = List.of("blue-green", "rolling", "immediate");

    /** The largest {@code mayfly.toml} Mayfly reads, in bytes: a manifest is settings, not scripts or data. */
    public static final int MAX_BYTES = 64 * 1024;

    /**
     * Checks every key and value against its type and limits (the schema in {@code ManifestReader}): numbers, durations
     * and sizes within their ranges, strings and arrays no longer than their maxima, the file within {@link #MAX_BYTES}.
     */
    public static Manifest parse(String fileName, String tomlText) throws ManifestException {
        checkSize(fileName, ManifestReader.utf8Length(tomlText));
        return new ManifestReader(fileName, tomlText).read();
    }

    /** Refuses a manifest of {@code bytes} bytes above {@link #MAX_BYTES}; call it before loading a file of unknown size. */
    public static void checkSize(String fileName, long bytes) throws ManifestException {
        if (bytes > MAX_BYTES) {
            throw new ManifestException(
                    fileName,
                    0,
                    null,
                    "the file is " + bytes + " bytes ("
                            + (bytes < 1 << 20
                                    ? String.format("%.1f KiB", bytes / 1024.0)
                                    : String.format("%.1f MiB", bytes / 1024.0 / 1024.0))
                            + "); a manifest may be at most " + MAX_BYTES
                            + " bytes (64 KiB): keep scripts and data in other files and run"
                            + " them from [build] command");
        }
    }

    /** What a manifest that names only its artifact means. */
    public static Manifest defaults(String artifact) {
        return new Manifest(
                new Build(null, artifact, null, false, List.of(), Duration.ofMinutes(15), null),
                new Run(
                        "process",
                        List.of(),
                        64L * 1024 * 1024,
                        1,
                        1,
                        8080,
                        Duration.ofSeconds(30),
                        null,
                        "blue-green",
                        true,
                        null,
                        null,
                        null),
                new Health(
                        "/",
                        200,
                        false,
                        null,
                        Duration.ofSeconds(10),
                        Duration.ofMillis(100),
                        Duration.ofSeconds(1),
                        Duration.ofSeconds(30)),
                new Test(null, Duration.ofMinutes(5)));
    }
}
