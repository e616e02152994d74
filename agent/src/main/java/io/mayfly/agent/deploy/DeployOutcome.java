package io.mayfly.agent.deploy;

import java.util.Map;

/** How a deploy ended. On failure the previous release is still the one serving. */
public sealed interface DeployOutcome {
    Map<String, Long> phases();

    record Live(Map<String, Long> phases) implements DeployOutcome {}

    record Failed(String reason, Map<String, Long> phases) implements DeployOutcome {}
}
