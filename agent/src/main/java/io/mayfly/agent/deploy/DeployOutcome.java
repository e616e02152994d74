package io.mayfly.agent.deploy;

import java.util.Map;

/** How a deploy ended. On failure the previous release is still the one serving. */
public sealed interface DeployOutcome {
    Map<String, Long> phases();

    /** @param standby the liveness window the deploy opened (the previous release standing by), or null when none */
    record Live(Map<String, Long> phases, io.mayfly.agent.Standby standby) implements DeployOutcome {
        public Live(Map<String, Long> phases) {
            this(phases, null);
        }
    }

    record Failed(String reason, Map<String, Long> phases) implements DeployOutcome {}
}
