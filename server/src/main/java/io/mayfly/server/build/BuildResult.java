package io.mayfly.server.build;

import java.time.Duration;

/** What running a build command produced besides its files. */
public record BuildResult(
        BuildOutcome outcome, Integer exitCode, Duration duration, boolean sandboxed, Provenance provenance) {}
