package io.mayfly.dist;

import io.mayfly.server.build.BuildPolicy;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** What the operator allows builds on this host ({@code mayfly server} and {@code mayfly agent --builds}): see {@link BuildPolicy}. */
final class BuildPolicyOptions {
    @Option(
            names = "--build-host-path",
            paramLabel = "DIR",
            description =
                    "a host directory builds may read when their [build] host_paths "
                            + "asks (repeatable; default: /boot and /lib/modules; never the data directory, /root, /etc and the like)")
    List<Path> hostPaths;

    @Option(
            names = "--build-memory",
            paramLabel = "SIZE",
            description = "memory of one build (default: ${DEFAULT-VALUE})",
            defaultValue = "2G")
    String memory;

    @Option(
            names = "--build-processes",
            paramLabel = "N",
            description = "processes of one build (default: ${DEFAULT-VALUE})",
            defaultValue = "512")
    long processes;

    @Option(
            names = "--build-tmp",
            paramLabel = "SIZE",
            description = "size of a build's /tmp (default: ${DEFAULT-VALUE})",
            defaultValue = "512M")
    String tmp;

    @Option(
            names = "--build-disk",
            paramLabel = "SIZE",
            description = "most a build directory may hold (default: ${DEFAULT-VALUE})",
            defaultValue = "2G")
    String disk;

    @Option(
            names = "--build-max-timeout",
            paramLabel = "DURATION",
            description = "longest [build] timeout allowed (default: ${DEFAULT-VALUE})",
            defaultValue = "1h")
    String maxTimeout;

    BuildPolicy policy(CommandLine cmd, Path data) {
        if (processes < 1)
            throw new CommandLine.ParameterException(
                    cmd, "--build-processes expects a number from 1, got " + processes);
        try {
            return BuildPolicy.of(
                    hostPaths == null ? BuildPolicy.DEFAULT_HOST_PATHS : hostPaths,
                    ServerCommand.size(memory, "--build-memory"),
                    processes,
                    ServerCommand.size(tmp, "--build-tmp"),
                    ServerCommand.size(disk, "--build-disk"),
                    AgentCommand.duration(maxTimeout, "--build-max-timeout", cmd),
                    data);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, e.getMessage());
        }
    }
}
