package io.mayfly.agent.driver.xen;

import io.mayfly.agent.driver.HostCommand;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.VmHost;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * One running Xen domain, named after its instance. It runs detached from any process of ours (the hypervisor
 * holds it), so its life is watched by asking {@code xl list NAME} about once a second; its exit code is not known
 * ({@link #exited()} completes with -1). Stopping asks the guest to shut down ({@code xl shutdown -w}), which
 * needs a guest that watches Xen's control/shutdown node, waits the grace, then destroys the domain.
 */
final class XenDomain implements InstanceHandle {
    static final Duration POLL = Duration.ofSeconds(1);
    private static final Duration DESTROY_TIMEOUT = Duration.ofSeconds(30);

    private final InstanceState state;
    private final Xl xl;
    private final CompletableFuture<Integer> exited = new CompletableFuture<>();

    private XenDomain(InstanceState state, Xl xl) {
        this.state = state;
        this.xl = xl;
    }

    /** A handle on the running domain of {@code state}, watched from now on. */
    static XenDomain watch(InstanceState state, Xl xl) {
        XenDomain domain = new XenDomain(state, xl);
        Thread.ofVirtual().name("watch-" + state.id()).start(() -> {
            try {
                while (!domain.exited.isDone()) {
                    Thread.sleep(POLL);
                    // Checked again after the sleep: a domain stopped meanwhile is not asked about once more.
                    if (!domain.exited.isDone() && domain.gone()) domain.exited.complete(-1);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return domain;
    }

    /** Whether xl no longer lists the domain. When xl cannot be run at all nothing is known, so it is not gone. */
    private boolean gone() {
        try {
            return !xl.listed(state.id());
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * A Xen guest sits on its bridge with an address Mayfly does not know and no port forwarded to it: an HTTP or TCP
     * check cannot reach it, and says so. Check a Xen guest by its console ({@code [health] console}).
     */
    @Override
    public io.mayfly.agent.driver.Guest guest() {
        return new io.mayfly.agent.driver.Guest() {
            public java.net.InetSocketAddress http() { return io.mayfly.agent.driver.Guest.onLoopback(state.port()).http(); }

            public String acceptsTcp(Duration timeout) {
                return "the xen driver does not reach its guests' ports (they sit on their bridge); check a Xen guest with [health] console";
            }
        };
    }

    @Override
    public InstanceState state() { return state; }

    @Override
    public boolean isAlive() { return !exited.isDone(); }

    @Override
    public CompletableFuture<Integer> exited() { return exited; }

    @Override
    public void stop(Duration grace) {
        if (exited.isDone()) return;
        String name = state.id();
        if (grace.isPositive()) {
            try {
                HostCommand.Result shutdown = xl.run(grace, "shutdown", "-w", name);
                if (!shutdown.ok()) note("xl shutdown -w " + name + ": " + shutdown.output() + "; destroying the domain");
            } catch (IOException e) {
                note("cannot run xl shutdown for " + name + ": " + e.getMessage() + "; destroying the domain");
            }
        }
        String destroyed = "";
        if (!gone()) {
            try {
                destroyed = xl.run(DESTROY_TIMEOUT, "destroy", name).output();
            } catch (IOException e) {
                destroyed = e.getMessage();
            }
        }
        if (!gone()) {
            throw new IllegalStateException("Xen domain " + name + " is still there after xl destroy (" + destroyed
                    + "); check it with: xl list " + name);
        }
        exited.complete(-1);
    }

    private void note(String line) {
        VmHost.note(state.logFile(), line);
    }

    @Override
    public String toString() {
        return "Xen domain " + state.id();
    }
}
