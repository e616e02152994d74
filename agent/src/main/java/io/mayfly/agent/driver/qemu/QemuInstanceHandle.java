package io.mayfly.agent.driver.qemu;

import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.process.ProcessStat;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One running QEMU. Stopping asks the guest to power down through QMP ({@code system_powerdown}), waits up to the
 * grace period (capped: a unikernel without an ACPI handler never answers it), then tells QEMU to quit, then kills it.
 */
final class QemuInstanceHandle implements InstanceHandle {
    static final Duration MAX_POWERDOWN_WAIT = Duration.ofSeconds(3);

    private final InstanceState state;
    private final ProcessHandle process;
    private final Path qmp;
    private final CompletableFuture<Integer> exited;

    private QemuInstanceHandle(InstanceState state, ProcessHandle process, Path qmp, CompletableFuture<Integer> exited) {
        this.state = state;
        this.process = process;
        this.qmp = qmp;
        this.exited = exited;
    }

    static QemuInstanceHandle started(InstanceState state, Process process, Path qmp) {
        return new QemuInstanceHandle(state, process.toHandle(), qmp, process.onExit().thenApply(Process::exitValue));
    }

    /** Re-adopted after an agent restart: not our child, so its end is seen by watching /proc (exit code unknown). */
    static QemuInstanceHandle adopted(InstanceState state, ProcessHandle process, Path qmp) {
        CompletableFuture<Integer> exited = new CompletableFuture<>();
        Thread.ofVirtual().name("watch-" + state.id()).start(() -> {
            while (ProcessStat.running(state.pid(), state.startTicks())) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
            exited.complete(-1);
        });
        return new QemuInstanceHandle(state, process, qmp, exited);
    }

    @Override
    public InstanceState state() { return state; }

    @Override
    public boolean isAlive() { return !exited.isDone() && process.isAlive(); }

    @Override
    public CompletableFuture<Integer> exited() { return exited; }

    @Override
    public void stop(Duration grace) {
        if (!isAlive()) return;
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
        return state.id() + " (qemu pid " + state.pid() + ")";
    }
}
