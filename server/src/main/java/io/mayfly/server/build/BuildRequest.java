package io.mayfly.server.build;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One command to run in the sandbox.
 *
 * @param source    what is built: a git commit id, or "upload:SHA256"
 * @param workDir   the checkout, writable, seen as /build inside the sandbox
 * @param network   whether the command may connect out (never to the host's loopback)
 * @param hostPorts ports of the host's loopback the command may reach (a staged test: the instance it tests)
 * @param hostPaths host paths the command may read (read-only, same path inside)
 * @param env       added to the sandbox's fixed environment
 * @param logFile   the console log, appended
 * @param outputs   the files the build must leave in workDir (its artifacts), relative to it
 */
public record BuildRequest(
        String source,
        Path workDir,
        String command,
        boolean network,
        List<Integer> hostPorts,
        List<Path> hostPaths,
        Map<String, String> env,
        Duration timeout,
        long maxLogBytes,
        Path logFile,
        List<String> outputs) {
    /** A build: its outputs are collected, it reaches no port of the host. */
    public BuildRequest(
            String source,
            Path workDir,
            String command,
            boolean network,
            List<Path> hostPaths,
            Map<String, String> env,
            Duration timeout,
            long maxLogBytes,
            Path logFile,
            List<String> outputs) {
        this(source, workDir, command, network, List.of(), hostPaths, env, timeout, maxLogBytes, logFile, outputs);
    }

    /** A command whose files nobody collects. */
    public BuildRequest(
            String source,
            Path workDir,
            String command,
            boolean network,
            List<Path> hostPaths,
            Map<String, String> env,
            Duration timeout,
            long maxLogBytes,
            Path logFile) {
        this(source, workDir, command, network, List.of(), hostPaths, env, timeout, maxLogBytes, logFile, List.of());
    }
}
