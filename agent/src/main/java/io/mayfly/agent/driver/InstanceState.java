package io.mayfly.agent.driver;

import java.nio.file.Path;
import java.time.Instant;

/**
 * What a driver persists about a running instance so that a restarted agent can re-adopt it
 * (Nomad's state.go). Written as JSON to {@code stateDir/state.json} by the agent.
 *
 * @param pid         the instance's main process
 * @param startTicks  the process start time from /proc/PID/stat field 22, so a reused pid is not mistaken for ours
 */
public record InstanceState(
        String id,
        String app,
        int release,
        String driver,
        long pid,
        long startTicks,
        int port,
        Path logFile,
        Path stateDir,
        Instant startedAt) {}
