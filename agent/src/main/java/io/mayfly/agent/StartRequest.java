package io.mayfly.agent;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What to run: a verified artifact, the driver to run it with, and the run settings of its release.
 * {@code args} may hold placeholders ({port}, {app}, {release}) that the agent fills in at start.
 * The agent keeps it beside the instance so that it can restart the instance the same way after a crash.
 */
public record StartRequest(String app, int release, String driver, Path artifact, Path initrd, List<String> args,
                           Map<String, String> env, long memoryBytes, int vcpus, int guestPort, Duration stopGrace,
                           HealthSpec health) {}
