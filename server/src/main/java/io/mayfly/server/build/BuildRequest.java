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
 * @param hostPaths host paths the command may read (read-only, same path inside)
 * @param env       added to the sandbox's fixed environment
 * @param logFile   the console log, appended
 * @param outputs   the files the build must leave in workDir (its artifacts), relative to it
 */
public record BuildRequest(String source, Path workDir, String command, boolean network, List<Path> hostPaths, Map<String, String> env,
                           Duration timeout, long maxLogBytes, Path logFile, List<String> outputs) {
    /** A command whose files nobody collects (a staged test). */
    public BuildRequest(String source, Path workDir, String command, boolean network, List<Path> hostPaths, Map<String, String> env,
                        Duration timeout, long maxLogBytes, Path logFile) {
        this(source, workDir, command, network, hostPaths, env, timeout, maxLogBytes, logFile, List.of());
    }
}
