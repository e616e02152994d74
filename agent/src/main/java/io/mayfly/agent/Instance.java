package io.mayfly.agent;

import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.router.Backend;

/**
 * One instance this agent runs: the driver's handle, the router's view of it, the request it was started from,
 * how many times its slot was restarted in all, how many crashes in a row led to it (for the back-off), and where
 * this start's output begins in its console log (what a console health check reads, what an error quotes).
 */
public record Instance(
        String id,
        String app,
        int release,
        String driver,
        InstanceHandle handle,
        Backend backend,
        StartRequest request,
        int restarts,
        int crashStreak,
        long consoleFrom) {
    public InstanceState state() {
        return handle.state();
    }

    public int port() {
        return backend.port();
    }
}
