package io.mayfly.agent.driver.process;

import io.mayfly.agent.driver.Guest;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.ProcessStat;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * One instance run by the process driver, and how to stop it (Nomad's handle.go).
 *
 * <p>The recorded pid is the outermost process: bubblewrap's monitor when sandboxed, the app itself when not. It
 * exits with the app's exit code. Under bubblewrap the tree is monitor -> the sandbox's init (pid 1 of its pid
 * namespace) -> the app; the monitor forwards no signals and dies on SIGTERM while leaving the sandbox running,
 * so SIGTERM goes to the processes below it, and SIGKILL to the sandbox's init tears down the whole namespace.
 */
final class ProcessInstanceHandle implements InstanceHandle {
    private static final long POLL_MILLIS = 20;
    private static final long ADOPTED_POLL_MILLIS = 100;
    private static final Duration KILL_TIMEOUT = Duration.ofSeconds(10);

    private final InstanceState state;
    private final ProcessHandle process;
    private final boolean sandboxed;
    private final CompletableFuture<Integer> exited;
    private final Runnable afterStop;
    private final Guest guest;

    private ProcessInstanceHandle(
            InstanceState state,
            ProcessHandle process,
            boolean sandboxed,
            CompletableFuture<Integer> exited,
            Guest guest,
            Runnable afterStop) {
        this.state = state;
        this.guest = guest;
        this.process = process;
        this.sandboxed = sandboxed;
        this.exited = exited;
        this.afterStop = afterStop;
    }

    /** An instance this agent process started: its exit code is known. {@code afterStop} runs once it ended, however. */
    static ProcessInstanceHandle started(
            InstanceState state, Process process, boolean sandboxed, Guest guest, Runnable afterStop) {
        CompletableFuture<Integer> exited = process.onExit().thenApply(p -> {
            afterStop.run();
            return p.exitValue();
        });
        return new ProcessInstanceHandle(state, process.toHandle(), sandboxed, exited, guest, afterStop);
    }

    /**
     * An instance started by an earlier agent process. It is not our child, so its exit code is lost; it is
     * watched by polling /proc rather than {@link ProcessHandle#onExit()}, which backs off to 5 s between polls
     * and would wait forever on a zombie that its new parent never reaps.
     */
    static ProcessInstanceHandle adopted(
            InstanceState state, ProcessHandle process, boolean sandboxed, Guest guest, Runnable afterStop) {
        CompletableFuture<Integer> exited = new CompletableFuture<>();
        ProcessInstanceHandle handle = new ProcessInstanceHandle(state, process, sandboxed, exited, guest, afterStop);
        Thread.ofVirtual().name("watch-" + state.id()).start(() -> {
            try {
                while (handle.isAlive()) {
                    Thread.sleep(ADOPTED_POLL_MILLIS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            afterStop.run();
            exited.complete(-1);
        });
        return handle;
    }

    @Override
    public InstanceState state() {
        return state;
    }

    @Override
    public boolean isAlive() {
        return ProcessStat.running(state.pid(), state.startTicks());
    }

    @Override
    public CompletableFuture<Integer> exited() {
        return exited;
    }

    @Override
    public Guest guest() {
        return guest;
    }

    @Override
    public void stop(Duration grace) {
        try {
            long graceEnd = System.nanoTime() + grace.toNanos();
            Set<Long> asked = new HashSet<>();
            // Processes may still be forking (bubblewrap sets up the sandbox), so look again on every round and
            // ask each newcomer once.
            while (isAlive() && System.nanoTime() < graceEnd) {
                appProcesses().filter(p -> asked.add(p.pid())).forEach(ProcessHandle::destroy);
                sleep(POLL_MILLIS);
            }
            long killEnd = System.nanoTime() + KILL_TIMEOUT.toNanos();
            while (isAlive()) {
                if (System.nanoTime() > killEnd) {
                    throw new IllegalStateException("instance " + state.id() + " (pid " + state.pid()
                            + ") is still running " + KILL_TIMEOUT.toSeconds()
                            + " s after SIGKILL; check it with ps -p "
                            + state.pid() + " (a process stuck in the kernel, state D, cannot be killed)");
                }
                // Below the monitor first: killing the sandbox's init makes the kernel kill its whole pid
                // namespace, and the monitor then exits by itself; killing the monitor first would orphan the sandbox.
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                sleep(POLL_MILLIS);
            }
            awaitExitedFuture();
        } finally {
            if (!isAlive()) {
                afterStop.run();
            }
        }
    }

    /** The processes that get SIGTERM: the app and whatever it forked, never the bubblewrap monitor. */
    private Stream<ProcessHandle> appProcesses() {
        return sandboxed ? process.descendants() : Stream.concat(Stream.of(process), process.descendants());
    }

    /** So that a caller who stopped an instance sees {@link #exited()} complete right after. */
    private void awaitExitedFuture() {
        try {
            exited.get(5, TimeUnit.SECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // The process is gone (checked in /proc); only the notification is late.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping an instance", e);
        }
    }

    @Override
    public String toString() {
        return "instance " + state.id() + " (pid " + state.pid() + (sandboxed ? ", sandboxed" : ", unsandboxed") + ")";
    }
}
