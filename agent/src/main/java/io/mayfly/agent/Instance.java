package io.mayfly.agent;

import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.router.Backend;

/** One instance this agent runs: the driver's handle and the router's view of it. */
public record Instance(String id, String app, int release, String driver, InstanceHandle handle, Backend backend) {
    public InstanceState state() { return handle.state(); }
    public int port() { return backend.port(); }
}
