package io.mayfly.agent.driver;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An instance that is one host process holding the whole guest (a Solo5 tender, a Firecracker VMM) and its
 * {@link GuestNetwork}. Shared by the drivers whose tool runs in the foreground for as long as the guest lives, so
 * the process's life is the instance's life: when it ends, however it ends, the network is taken down with it.
 *
 * <p>The process runs in its own session (setsid: a signal to the agent's terminal must not reach it) with the
 * console, its stdout and stderr, appended to the instance log, so nothing breaks when the agent goes away. Its
 * pid and start ticks go to the state file; a restarted agent re-adopts it by both, so a reused pid is never
 * mistaken for it.
 *
 * <p>Stopping first makes the driver's own request (Firecracker's Ctrl-Alt-Del), or SIGTERM when it has none or
 * the request could not be made; waits the grace; then SIGTERM if that was not sent yet, and SIGKILL.
 */
public final class VmmProcess implements InstanceHandle {
    /** How long SIGTERM gets after an unanswered driver request, before SIGKILL. */
    static final Duration TERM_WAIT = Duration.ofSeconds(2);

    private static final Duration KILL_WAIT = Duration.ofSeconds(10);
    private static final long ADOPTED_POLL_MILLIS = 100;
    private static final Path SETSID = Path.of("/usr/bin/setsid");

    /** A driver's own way of asking its guest to stop, tried before any signal; throws when it could not even ask. */
    @FunctionalInterface
    public interface StopRequest {
        void send() throws IOException;
    }

    private final InstanceState state;
    private final ProcessHandle process;
    private final CompletableFuture<Integer> exited;
    private final StopRequest request;
    /** Null for an instance adopted from an agent that recorded no network for it. */
    private final GuestNetwork network;
    /** Set when the agent lets go of the instance: its end is then the next agent's business. */
    private volatile boolean detached;

    private VmmProcess(
            InstanceState state,
            ProcessHandle process,
            CompletableFuture<Integer> exited,
            StopRequest request,
            GuestNetwork network) {
        this.state = state;
        this.process = process;
        this.exited = exited;
        this.request = request;
        this.network = network;
        // Taken down on a thread of its own: the exit may be seen on a thread that must not wait for ip.
        exited.whenComplete((code, error) -> {
            if (!detached) Thread.ofVirtual().name("network-down-" + state.id()).start(this::closeNetwork);
        });
    }

    /**
     * Starts {@code command} for {@code spec} and records its state. {@code request} is how to ask it to stop
     * (null: SIGTERM); {@code network} is the guest's, already set up, and is taken down when the process ends (or
     * at once, if it cannot be started). Returns once the process exists; whether the guest comes up is the health
     * check's business.
     */
    public static VmmProcess start(
            String driver, InstanceSpec spec, List<String> command, StopRequest request, GuestNetwork network)
            throws DriverException {
        List<String> cmd = new ArrayList<>();
        // setsid execs in place (our child is never a group leader), so the recorded pid is the tool itself.
        if (Files.isExecutable(SETSID)) cmd.add(SETSID.toString());
        cmd.addAll(command);
        Process started;
        try {
            Files.createDirectories(spec.stateDir());
            VmHost.log(spec.logFile(), "starting " + spec.id() + ": " + String.join(" ", command));
            started = new ProcessBuilder(cmd)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(
                            ProcessBuilder.Redirect.appendTo(spec.logFile().toFile()))
                    .directory(spec.stateDir().toFile())
                    .start();
        } catch (IOException e) {
            network.close();
            throw new DriverException(
                    "cannot start " + command.getFirst() + " for " + spec.id() + ": " + e.getMessage(), e);
        }
        long ticks =
                ProcessStat.read(started.pid()).map(ProcessStat::startTicks).orElse(0L);
        InstanceState state = new InstanceState(
                spec.id(),
                spec.app(),
                spec.release(),
                driver,
                started.pid(),
                ticks,
                spec.port(),
                spec.logFile(),
                spec.stateDir(),
                Instant.now());
        VmmProcess handle = new VmmProcess(
                state, started.toHandle(), started.onExit().thenApply(Process::exitValue), request, network);
        try {
            InstanceStateFile.write(InstanceStateFile.in(spec.stateDir()), state);
        } catch (IOException e) {
            // An instance whose state is not on disk would be orphaned by the next agent restart.
            handle.abort();
            throw new DriverException(
                    "cannot record the state of " + spec.id() + " in " + spec.stateDir() + ": " + e.getMessage()
                            + "; the instance was stopped",
                    e);
        }
        return handle;
    }

    /**
     * Re-adopts the process of {@code state} if it was started by {@code driver} and is still the same running
     * process, and forwards to its guest again. It is not our child, so its exit code is lost and its end is seen by
     * polling /proc. When the process is gone, the tap it leaves behind is removed.
     */
    public static Optional<InstanceHandle> recover(
            String driver, InstanceState state, StopRequest request, TapDevices taps) {
        if (!driver.equals(state.driver())) return Optional.empty();
        Optional<ProcessHandle> alive =
                ProcessStat.running(state.pid(), state.startTicks()) ? ProcessHandle.of(state.pid()) : Optional.empty();
        if (alive.isEmpty()) {
            GuestNetwork.removeLeftover(taps, state.stateDir(), state.logFile());
            return Optional.empty();
        }
        GuestNetwork network =
                GuestNetwork.adopt(taps, state.stateDir(), state.logFile()).orElse(null);
        return alive.map(p -> {
            CompletableFuture<Integer> exited = new CompletableFuture<>();
            Thread.ofVirtual().name("watch-" + state.id()).start(() -> {
                try {
                    while (ProcessStat.running(state.pid(), state.startTicks())) Thread.sleep(ADOPTED_POLL_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                exited.complete(-1);
            });
            return new VmmProcess(state, p, exited, request, network);
        });
    }

    @Override
    public InstanceState state() {
        return state;
    }

    @Override
    public boolean isAlive() {
        return !exited.isDone() && ProcessStat.running(state.pid(), state.startTicks());
    }

    @Override
    public CompletableFuture<Integer> exited() {
        return exited;
    }

    /** The guest at its own address on the tap: a TCP check connects straight to it, past the forwarder. */
    @Override
    public Guest guest() {
        if (network == null) {
            return new Guest() {
                public java.net.InetSocketAddress http() {
                    return Guest.onLoopback(state.port()).http();
                }

                public String acceptsTcp(Duration timeout) {
                    return "the network of " + state.id() + " was not recorded: its guest cannot be reached";
                }
            };
        }
        return Guest.at(network.guestAddress(), state.port());
    }

    @Override
    public void stop(Duration grace) {
        try {
            end(grace, true);
        } finally {
            // Not left to the exit callback alone: whoever stops an instance may rely on its tap being gone after.
            closeNetwork();
        }
    }

    /**
     * Ends a VMM whose guest never booted (its configuration failed): SIGTERM without asking the guest first, and
     * SIGKILL if that has not ended it within {@link #TERM_WAIT}. Takes the network down too.
     */
    public void abort() {
        try {
            end(TERM_WAIT, false);
        } finally {
            closeNetwork();
        }
    }

    @Override
    public void detach() {
        detached = true;
        if (network != null) network.detach();
    }

    /** What the guest leaves once it has ended: its network (tap and forward) and its private disk copies. */
    private void closeNetwork() {
        if (network != null) network.close();
        PrivateDisk.discard(state.stateDir(), state.logFile());
    }

    private void end(Duration grace, boolean ask) {
        if (!isAlive()) return;
        boolean asked = false;
        if (ask && request != null) {
            try {
                request.send();
                asked = true;
            } catch (IOException e) {
                note("could not ask " + state.id() + " to stop (" + e.getMessage() + "); sending SIGTERM");
            }
        }
        if (!asked) process.destroy();
        if (awaitExit(grace)) return;
        if (asked) {
            note(state.id() + " did not stop within " + grace.toMillis() + " ms of the request; sending SIGTERM");
            process.destroy();
            if (awaitExit(TERM_WAIT)) return;
        }
        note(state.id() + " still running; sending SIGKILL");
        process.destroyForcibly();
        if (!awaitExit(KILL_WAIT)) {
            throw new IllegalStateException("instance " + state.id() + " (pid " + state.pid() + ") is still running "
                    + KILL_WAIT.toSeconds() + " s after SIGKILL; check it with ps -p " + state.pid()
                    + " (a process stuck in the kernel, state D, cannot be killed)");
        }
    }

    /** Whether the process ended within {@code timeout}. */
    private boolean awaitExit(Duration timeout) {
        try {
            exited.get(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException | ExecutionException e) {
            return !ProcessStat.running(state.pid(), state.startTicks());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping " + state.id(), e);
        }
    }

    /** A line in the instance log, so that whoever reads it sees why the guest ended the way it did. */
    private void note(String text) {
        VmHost.note(state.logFile(), text);
    }

    @Override
    public String toString() {
        return state.id() + " (" + state.driver() + " pid " + state.pid() + ")";
    }
}
