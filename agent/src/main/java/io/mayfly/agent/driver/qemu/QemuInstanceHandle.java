package io.mayfly.agent.driver.qemu;

import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.InstanceStateFile;
import io.mayfly.agent.driver.ProcessStat;
import io.mayfly.agent.driver.VmHost;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One running QEMU. Stopping asks the guest to power down through QMP ({@code system_powerdown}), waits up to the
 * grace period (capped: a unikernel without an ACPI handler never answers it), then tells QEMU to quit, then kills it.
 *
 * <p>A boot under KVM is watched ({@link KvmWatch}) and may be ended and booted again under TCG as the same instance
 * ({@link #relaunch}): same id, port and console log, a new QEMU process. Until the watch has decided, the end of the
 * KVM process is not the instance's end ({@link #exited()} does not complete for it); the state file is rewritten for
 * the new process.
 */
final class QemuInstanceHandle implements InstanceHandle {
    static final Duration MAX_POWERDOWN_WAIT = Duration.ofSeconds(3);
    private static final Duration KILL_WAIT = Duration.ofSeconds(10);

    /** Starts the instance's QEMU again under TCG, returning its process; writes its own line to the console log first. */
    @FunctionalInterface
    interface Launcher {
        Process launch() throws IOException;
    }

    /** One QEMU process of the instance, and its end. */
    private record Run(InstanceState state, ProcessHandle process, CompletableFuture<Integer> end) {}

    private final Path qmp;
    private final Launcher underTcg;
    private final CompletableFuture<Integer> exited = new CompletableFuture<>();
    private volatile Run current;
    /** Guarded by this: a KVM watch may still replace the run (its end is then not the instance's). */
    private boolean watched;
    /** Guarded by this: the run is being replaced. */
    private boolean replacing;
    /** Guarded by this: stop() was called; nothing is started any more. */
    private boolean stopping;

    private QemuInstanceHandle(Run run, Path qmp, Launcher underTcg) {
        this.qmp = qmp;
        this.underTcg = underTcg;
        this.watched = underTcg != null;
        this.current = run;
        run.end().thenAccept(code -> ended(run, code));
    }

    static QemuInstanceHandle started(InstanceState state, Process process, Path qmp) {
        return new QemuInstanceHandle(
                new Run(state, process.toHandle(), process.onExit().thenApply(Process::exitValue)), qmp, null);
    }

    /** Started under KVM and watched: {@code underTcg} boots it again when the watch says KVM failed it. */
    static QemuInstanceHandle watched(InstanceState state, Process process, Path qmp, Launcher underTcg) {
        return new QemuInstanceHandle(
                new Run(state, process.toHandle(), process.onExit().thenApply(Process::exitValue)), qmp, underTcg);
    }

    /** Re-adopted after an agent restart: not our child, so its end is seen by watching /proc (exit code unknown). */
    static QemuInstanceHandle adopted(InstanceState state, ProcessHandle process, Path qmp) {
        CompletableFuture<Integer> end = new CompletableFuture<>();
        Thread.ofVirtual().name("watch-" + state.id()).start(() -> {
            while (ProcessStat.running(state.pid(), state.startTicks())) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
            end.complete(-1);
        });
        return new QemuInstanceHandle(new Run(state, process, end), qmp, null);
    }

    /** A QEMU process ended: the instance's end, unless it was replaced, or a watch may still replace it. */
    private synchronized void ended(Run run, int code) {
        if (run == current && !watched && !replacing) exited.complete(code);
    }

    @Override
    public InstanceState state() {
        return current.state();
    }

    @Override
    public boolean isAlive() {
        if (exited.isDone()) return false;
        synchronized (this) {
            if (replacing) return true;
        }
        return current.process().isAlive();
    }

    @Override
    public CompletableFuture<Integer> exited() {
        return exited;
    }

    /** Whether a KVM watch may still replace the run (false once decided, or once the instance is being stopped). */
    synchronized boolean watched() {
        return watched && !stopping;
    }

    /** Whether the current QEMU process runs. */
    boolean runAlive() {
        return current.process().isAlive();
    }

    /** QEMU's run state ({@code running}, {@code internal-error}, ...), or null when it does not answer. */
    String runState() {
        try {
            var answer = io.mayfly.wire.Json.MAPPER.readTree(Qmp.execute(qmp, "query-status"));
            return answer.path("return").path("status").asText(null);
        } catch (IOException e) {
            return null;
        }
    }

    /** The watch has decided: from now on the end of the current process is the instance's. */
    void release() {
        Run run;
        synchronized (this) {
            watched = false;
            run = current;
        }
        run.end().thenAccept(code -> ended(run, code));
    }

    /**
     * Ends the current QEMU (a KVM boot that failed) and starts the instance again with the launcher, as the same
     * instance; rewrites its state file. Returns the console log's size before the new QEMU started, or -1 when the
     * instance is being stopped (nothing was started) or the new QEMU could not start (the instance has then ended).
     */
    long relaunch() throws InterruptedException {
        Run old;
        synchronized (this) {
            if (stopping || underTcg == null) return -1;
            replacing = true;
            old = current;
        }
        old.process().destroyForcibly(); // the guest is stuck: nothing to shut down cleanly
        Integer oldCode = waitFor(old, KILL_WAIT);
        InstanceState was = old.state();
        Run fresh;
        long from;
        synchronized (this) {
            replacing = false;
            if (stopping) {
                watched = false;
                exited.complete(oldCode == null ? -1 : oldCode);
                return -1;
            }
            try {
                from = java.nio.file.Files.size(was.logFile());
                java.nio.file.Files.deleteIfExists(qmp);
                Process p = underTcg.launch();
                long ticks =
                        ProcessStat.read(p.pid()).map(ProcessStat::startTicks).orElse(0L);
                fresh = new Run(
                        new InstanceState(
                                was.id(),
                                was.app(),
                                was.release(),
                                was.driver(),
                                p.pid(),
                                ticks,
                                was.port(),
                                was.logFile(),
                                was.stateDir(),
                                Instant.now()),
                        p.toHandle(),
                        p.onExit().thenApply(Process::exitValue));
            } catch (IOException e) {
                VmHost.note(was.logFile(), "cannot start QEMU again under TCG: " + e.getMessage());
                watched = false;
                exited.complete(oldCode == null ? -1 : oldCode);
                return -1;
            }
            current = fresh;
        }
        fresh.end().thenAccept(code -> ended(fresh, code));
        try {
            InstanceStateFile.write(InstanceStateFile.in(was.stateDir()), fresh.state());
        } catch (IOException e) {
            VmHost.note(
                    was.logFile(),
                    "cannot record the state of " + was.id() + " after booting it under TCG (" + e.getMessage()
                            + "); the VM was stopped");
            stop(Duration.ZERO);
            return -1;
        }
        return from;
    }

    private static Integer waitFor(Run run, Duration timeout) throws InterruptedException {
        try {
            return run.end().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return null;
        }
    }

    /**
     * QEMU's user-mode network accepts every connection to the forwarded port itself, then tries to reach the guest.
     * So a TCP check connects, then asks QEMU ({@code info usernet}) how its side towards the guest stands: established
     * means the guest accepted; a reset reaches our socket as its end; still SYN_SENT means the guest is not there yet.
     */
    @Override
    public io.mayfly.agent.driver.Guest guest() {
        int port = state().port();
        return new io.mayfly.agent.driver.Guest() {
            public java.net.InetSocketAddress http() {
                return io.mayfly.agent.driver.Guest.onLoopback(port).http();
            }

            public String acceptsTcp(Duration timeout) throws InterruptedException {
                return usernetAccepts(port, timeout);
            }
        };
    }

    private String usernetAccepts(int port, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.connect(io.mayfly.agent.driver.Guest.onLoopback(port).http(), (int) Math.max(1, timeout.toMillis()));
            socket.setSoTimeout(1);
            String last = "QEMU has not reached the guest yet";
            while (System.nanoTime() < deadline) {
                if (!isAlive()) return "QEMU exited";
                try {
                    if (establishedTo(Qmp.monitor(qmp, "info usernet"), port)) return null;
                } catch (IOException e) {
                    last = "cannot ask QEMU how the connection stands: " + e.getMessage();
                }
                try {
                    if (socket.getInputStream().read() == -1)
                        return "the guest refused a TCP connection on its port (QEMU closed it)";
                } catch (java.net.SocketTimeoutException stillOpen) {
                    // neither accepted nor refused yet
                } catch (IOException reset) {
                    return "the guest refused a TCP connection on its port (" + reset.getMessage() + ")";
                }
                Thread.sleep(20);
            }
            return last + " within " + timeout.toMillis() + " ms (the guest may still be booting)";
        } catch (IOException e) {
            return "TCP connect to 127.0.0.1:" + port + " (QEMU's forward to the guest): " + e.getMessage();
        }
    }

    /** Whether {@code info usernet} shows a connection forwarded from {@code port} that the guest accepted. */
    static boolean establishedTo(String usernet, int port) {
        for (String line : usernet.split("\n")) {
            String[] f = line.trim().split("\\s+");
            // Protocol[State] FD SourceAddress Port DestAddress Port RecvQ SendQ: the source is the forwarded port.
            if (f.length >= 6
                    && f[0].startsWith("TCP[")
                    && f[3].equals(Integer.toString(port))
                    && java.util.List.of(
                                    "TCP[ESTABLISHED]",
                                    "TCP[CLOSE_WAIT]",
                                    "TCP[FIN_WAIT_1]",
                                    "TCP[FIN_WAIT_2]",
                                    "TCP[CLOSING]",
                                    "TCP[LAST_ACK]",
                                    "TCP[TIME_WAIT]")
                            .contains(f[0])) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void stop(Duration grace) {
        Run run;
        synchronized (this) {
            stopping = true;
            watched = false;
            run = current;
        }
        // A run that ended while watched, or whose replacement was just abandoned, ends the instance now.
        run.end().thenAccept(code -> ended(run, code));
        if (!isAlive()) return;
        ProcessHandle process = current.process();
        try {
            Qmp.execute(qmp, "system_powerdown");
            exited.get(Math.min(grace.toMillis(), MAX_POWERDOWN_WAIT.toMillis()), TimeUnit.MILLISECONDS);
            return;
        } catch (IOException | java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // not powered down: tell QEMU to quit
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            Qmp.execute(qmp, "quit");
            exited.get(2, TimeUnit.SECONDS);
            return;
        } catch (Exception e) {
            // QEMU itself does not answer: kill it
        }
        process.destroyForcibly();
        try {
            exited.get(10, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // gone or not, nothing more can be done from here
        }
    }

    @Override
    public String toString() {
        InstanceState state = state();
        return state.id() + " (qemu pid " + state.pid() + ")";
    }
}
