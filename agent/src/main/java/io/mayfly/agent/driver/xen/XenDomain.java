package io.mayfly.agent.driver.xen;

import io.mayfly.agent.driver.Guest;
import io.mayfly.agent.driver.HostCommand;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.VmHost;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * One running Xen domain, named after its instance, and the {@link XenConsole} copying its console. The domain runs
 * detached from any process of ours (the hypervisor holds it), so its life is watched by asking {@code xl list NAME}
 * about once a second, and at once when its console ends, which it does when the domain goes; {@link #exited()}
 * completes (with -1: the exit code is not known) once the console has written the guest's last lines. Stopping asks
 * the guest to shut down ({@code xl shutdown -w}), which needs a guest that watches Xen's control/shutdown node,
 * waits the grace, then destroys the domain.
 */
final class XenDomain implements InstanceHandle {
    static final Duration POLL = Duration.ofSeconds(1);
    private static final Duration DESTROY_TIMEOUT = Duration.ofSeconds(30);
    /**
     * A Xen guest sits on its bridge at an address Mayfly does not know, and no port is forwarded to it: no HTTP or TCP
     * check can reach it, so one fails at once with this.
     */
    static final String UNREACHABLE =
            "the xen driver cannot reach its guests for an HTTP or TCP health check: a Xen guest sits on "
                    + "its bridge at an address Mayfly does not know, and no port is forwarded to it. Check it by its console instead, which "
                    + "the agent copies into the instance log: [health] console = \"a regular expression matching the line the guest prints "
                    + "once it serves\"";

    private final InstanceState state;
    private final Xl xl;
    private final XenConsole console;
    private final CompletableFuture<Integer> exited = new CompletableFuture<>();
    /** While {@link #stop} runs, it sees the end itself: the watch runs no xl command then, nor after. Guarded by this. */
    private boolean stopping;

    private XenDomain(InstanceState state, Xl xl, XenConsole console) {
        this.state = state;
        this.xl = xl;
        this.console = console;
    }

    /** A handle on the running domain of {@code state}, whose console {@code console} copies, watched from now on. */
    static XenDomain watch(InstanceState state, Xl xl, XenConsole console) {
        XenDomain domain = new XenDomain(state, xl, console);
        Thread.ofVirtual().name("watch-" + state.id()).start(domain::watchUntilGone);
        return domain;
    }

    private void watchUntilGone() {
        boolean endedEarlyNoted = false;
        try {
            while (!exited.isDone()) {
                boolean copying = console.copying();
                // The console ends when the domain goes: that ends the wait at once rather than at the next poll.
                if (copying) console.awaitEnd(POLL);
                else Thread.sleep(POLL);
                boolean gone;
                synchronized (this) {
                    // A domain stopped meanwhile, or being stopped, is not asked about once more.
                    if (exited.isDone() || stopping) continue;
                    gone = gone();
                }
                if (gone) {
                    console.finish();
                    exited.complete(-1);
                } else if (!copying && !endedEarlyNoted) {
                    console.noteEndedEarly(); // its console ended a poll ago, and the domain is still there
                    endedEarlyNoted = true;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether xl no longer lists the domain. When xl cannot be run at all nothing is known, so it is not gone. */
    private boolean gone() {
        try {
            return !xl.listed(state.id());
        } catch (IOException e) {
            return false;
        }
    }

    /** Reached by no HTTP or TCP check: check a Xen guest by its console ({@code [health] console}). */
    @Override
    public Guest guest() {
        return Guest.consoleOnly(UNREACHABLE);
    }

    @Override
    public InstanceState state() {
        return state;
    }

    @Override
    public boolean isAlive() {
        return !exited.isDone();
    }

    @Override
    public CompletableFuture<Integer> exited() {
        return exited;
    }

    @Override
    public void stop(Duration grace) {
        synchronized (this) {
            if (exited.isDone()) return;
            stopping = true; // once the watch's xl list in flight, if any, has returned
        }
        try {
            end(grace);
        } finally {
            synchronized (this) {
                stopping = false; // the domain survived a failed stop: the watch goes on
            }
        }
    }

    private void end(Duration grace) {
        String name = state.id();
        if (grace.isPositive()) {
            try {
                HostCommand.Result shutdown = xl.run(grace, "shutdown", "-w", name);
                if (!shutdown.ok())
                    note("xl shutdown -w " + name + ": " + shutdown.output() + "; destroying the domain");
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
        console.finish();
        exited.complete(-1);
    }

    /** The agent goes away and the domain stays: its console is let go of here and attached again by the next agent. */
    @Override
    public void detach() {
        console.close();
    }

    private void note(String line) {
        VmHost.note(state.logFile(), line);
    }

    @Override
    public String toString() {
        return "Xen domain " + state.id();
    }
}
