package io.mayfly.server.build;

/** How a build command ended. */
public sealed interface BuildOutcome {
    record Succeeded() implements BuildOutcome {}

    /** @param reason e.g. "build command exited with code 2" or "build timed out after 15m" */
    record Failed(String reason) implements BuildOutcome {}
}
