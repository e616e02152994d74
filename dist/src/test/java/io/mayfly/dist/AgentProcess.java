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
    private Path jar = MayflyProcess.JAR;
    private Process process;
    private Path log;
    private int starts;

    AgentProcess(Path data, String... args) throws IOException {
        this(data, MayflyProcess.freePort(), args);
    }

    private AgentProcess(Path data, int routerPort, String... args) {
        this.data = data;
        this.routerPort = routerPort;
        this.args = List.of(args);
    }

    /**
     * Another agent for the same data directory and router port, from {@code jar}, that takes over from this one
     * ({@code --take-over}) when started with {@link #startTakingOver}.
     */
    AgentProcess successor(Path jar) {
        AgentProcess next = new AgentProcess(data, routerPort, args.toArray(String[]::new));
        next.jar = jar;
        next.starts = starts;
        return next;
    }

    /** Starts it; returns once its router accepts connections. */
    AgentProcess start() throws Exception {
        launch(List.of());
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

    /** Starts it with --take-over; returns once it says it took over (the previous agent has exited). */
    AgentProcess startTakingOver() throws Exception {
        launch(List.of("--take-over"));
        Eventually.until(
                java.time.Duration.ofSeconds(90),
                () -> {
                    if (!process.isAlive()) throw new IllegalStateException("mayfly agent exited: " + log());
                    return log();
                },
                l -> l.contains("took over from agent pid"),
                "the agent taking over");
        return this;
    }

    private void launch(List<String> extra) throws IOException {
        log = data.resolveSibling(data.getFileName() + "-agent-" + (++starts) + ".log");
        List<String> command = new ArrayList<>(List.of(MayflyProcess.java(), "-jar", jar.toString(), "agent"));
        command.addAll(args);
        command.addAll(extra);
        command.addAll(List.of("--router", "127.0.0.1:" + routerPort, "--data", data.toString()));
        process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    long pid() {
        return process.pid();
    }

    String log() throws IOException {
        return Files.readString(log);
    }

    /** Waits until the agent's log says {@code text}. */
    void awaitLog(String text) throws Exception {
        Eventually.until(
                java.time.Duration.ofSeconds(60),
                this::log,
                l -> l.contains(text),
                "the agent log saying '" + text + "'");
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
