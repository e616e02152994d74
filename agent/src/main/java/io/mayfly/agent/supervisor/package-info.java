/** Keeping routed instances running: crash restarts with exponential back-off, and liveness checks. */
package io.mayfly.agent.supervisor;
