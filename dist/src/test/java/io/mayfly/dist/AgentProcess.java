package io.mayfly.dist;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A real {@code mayfly agent} process with its own router on a free loopback port and its own data directory. */
final class AgentProcess implements AutoCloseable {
    final Path data;
    final int routerPort;
    private final List<String> args;
    private Process process;
    private Path log;
    private int starts;

    AgentProcess(Path data, String... args) throws IOException {
        this.data = data;
        this.routerPort = MayflyProcess.freePort();
        this.args = List.of(args);
    }

    /** Starts it; returns once its router accepts connections. */
    AgentProcess start() throws Exception {
        log = data.resolveSibling(data.getFileName() + "-agent-" + (++starts) + ".log");
        List<String> command = new ArrayList<>(List.of(MayflyProcess.java(), "-jar", MayflyProcess.JAR.toString(), "agent"));
        command.addAll(args);
        command.addAll(List.of("--router", "127.0.0.1:" + routerPort, "--data", data.toString()));
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) throw new IllegalStateException("mayfly agent exited: " + log());
            try (var ignored = new java.net.Socket("127.0.0.1", routerPort)) {
                return this;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("mayfly agent did not start in 60 s: " + log());
    }

    String log() throws IOException {
        return Files.readString(log);
    }

    /** Waits until the agent's log says {@code text}. */
    void awaitLog(String text) throws Exception {
        Eventually.until(java.time.Duration.ofSeconds(60), this::log, l -> l.contains(text), "the agent log saying '" + text + "'");
    }

    /** SIGKILL: no shutdown hook runs; its instances keep running, as after a crash of the agent alone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** Stops the agent and every instance it started. */
    @Override
    public void close() throws Exception {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) kill();
        }
        MayflyProcess.stopInstances(data.resolve("agent/instances"));
    }
}
