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

    /**
     * QEMU's user-mode network accepts every connection to the forwarded port itself, then tries to reach the guest.
     * So a TCP check connects, then asks QEMU ({@code info usernet}) how its side towards the guest stands: established
     * means the guest accepted; a reset reaches our socket as its end; still SYN_SENT means the guest is not there yet.
     */
    @Override
    public io.mayfly.agent.driver.Guest guest() {
        int port = state.port();
        return new io.mayfly.agent.driver.Guest() {
            public java.net.InetSocketAddress http() { return io.mayfly.agent.driver.Guest.onLoopback(port).http(); }

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
                    if (socket.getInputStream().read() == -1) return "the guest refused a TCP connection on its port (QEMU closed it)";
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
            if (f.length >= 6 && f[0].startsWith("TCP[") && f[3].equals(Integer.toString(port))
                    && java.util.List.of("TCP[ESTABLISHED]", "TCP[CLOSE_WAIT]", "TCP[FIN_WAIT_1]", "TCP[FIN_WAIT_2]", "TCP[CLOSING]",
                    "TCP[LAST_ACK]", "TCP[TIME_WAIT]").contains(f[0])) {
                return true;
            }
        }
        return false;
    }

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
