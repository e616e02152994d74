package io.mayfly.server.hosts;

import io.mayfly.agent.remote.AgentLock;
import io.mayfly.server.store.DurableFiles;
import io.mayfly.server.store.Tokens;
import io.mayfly.wire.Version;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's embedded agent: a {@code mayfly agent} process of its own on this host, holding the router and the
 * instances, following the server over loopback HTTP like any remote agent. It outlives the server: a server that
 * stops, crashes or is upgraded leaves it serving, and the next start adopts it (found by its {@link AgentLock})
 * instead of starting a second. Its agent token is kept in {@code DATA/agent.token} (mode 0600) for the same reason.
 */
public final class EmbeddedAgent {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedAgent.class);

    /** How the agent was found: started now, or adopted running, and which pid and Mayfly version it is. */
    public record Found(long pid, boolean adopted, String version) {}

    private final Path data;
    private final Found found;

    private EmbeddedAgent(Path data, Found found) {
        this.data = data;
        this.found = found;
    }

    public Found found() {
        return found;
    }

    /**
     * Adopts the embedded agent of {@code data} if one runs, else starts it with {@code command} (the {@code mayfly
     * agent} command line without its server options), then waits until it has registered with {@code hosts}.
     *
     * @param command e.g. {@code java -cp mayfly.jar <the launcher class> agent --router-header-timeout 30s}, as the launcher builds it
     */
    public static EmbeddedAgent startOrAdopt(
            Path data,
            List<String> command,
            String name,
            String serverId,
            Tokens tokens,
            RemoteHosts hosts,
            URI api,
            String router,
            String domain,
            String keyFingerprint,
            Duration wait)
            throws IOException, InterruptedException {
        Path home = data.resolve("agent");
        Path tokenFile = data.resolve("agent.token");
        boolean freshToken = ensureToken(tokens, tokenFile, name, serverId);
        Optional<AgentLock.Holder> running = AgentLock.running(home);
        if (running.isPresent() && freshToken) {
            // It runs with a token that no longer works (revoked, or another database): it must start again.
            log.warn(
                    "the embedded agent (pid {}) holds a token this server no longer accepts: restarting it",
                    running.get().pid());
            stop(home, Duration.ofSeconds(30));
            running = Optional.empty();
        }
        List<String> options = new ArrayList<>(List.of(
                "--server",
                api.toString(),
                "--name",
                name,
                "--token-file",
                tokenFile.toString(),
                "--data",
                data.toString(),
                "--capacity",
                String.valueOf(io.mayfly.agent.remote.RemoteAgent.hostMemoryMb()),
                "--router",
                router,
                "--domain",
                domain,
                "--key",
                keyFingerprint));
        Process started = null;
        Found found;
        if (running.isPresent() && running.get().version().equals(Version.CURRENT)) {
            AgentLock.Holder h = running.get();
            found = new Found(h.pid(), true, h.version());
            log.info("adopted the embedded agent that kept running: pid {}, Mayfly {}", h.pid(), h.version());
        } else {
            if (running.isPresent()) {
                // An upgrade: the agent of this version takes over the router's port and the instances, and the
                // previous one finishes its requests and exits.
                log.info(
                        "the embedded agent (pid {}) runs Mayfly {}: an agent of Mayfly {} takes over from it",
                        running.get().pid(),
                        running.get().version(),
                        Version.CURRENT);
                options.add("--take-over");
            }
            started = launch(home, command, options);
            found = new Found(started.pid(), false, Version.CURRENT);
            log.info("started the embedded agent: pid {} (its log: {})", started.pid(), home.resolve("agent.log"));
        }
        long deadline = System.nanoTime() + wait.toNanos();
        while (!hosts.reports()
                .registeredVersion(name)
                .map(found.version()::equals)
                .orElse(false)) {
            if (started != null && !started.isAlive()) {
                throw new IllegalStateException("the embedded agent exited with code " + started.exitValue()
                        + " before it registered:\n" + tail(home.resolve("agent.log"), 20));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the embedded agent did not register with this server at " + api
                        + " within " + wait.toSeconds() + " s; its log (" + home.resolve("agent.log") + ") ends:\n"
                        + tail(home.resolve("agent.log"), 20));
            }
            Thread.sleep(20);
        }
        return new EmbeddedAgent(data, found);
    }

    /** Stops the embedded agent of {@code data} and waits for it to end ({@code mayfly server --stop-agent}). */
    public void stop() throws IOException, InterruptedException {
        stop(data.resolve("agent"), Duration.ofSeconds(30));
    }

    private static void stop(Path home, Duration wait) throws IOException, InterruptedException {
        Optional<AgentLock.Holder> running = AgentLock.running(home);
        if (running.isEmpty() || running.get().pid() <= 0) return;
        Optional<ProcessHandle> process = ProcessHandle.of(running.get().pid());
        if (process.isEmpty()) return;
        process.get().destroy();
        try {
            process.get().onExit().get(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            process.get().destroyForcibly();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    /** True when the token had to be made now (none, or the one kept no longer works). */
    private static boolean ensureToken(Tokens tokens, Path file, String name, String serverId) throws IOException {
        if (Files.exists(file)) {
            String secret = Files.readString(file).strip();
            Optional<Tokens.Token> token = tokens.use(secret);
            if (token.isPresent()
                    && token.get().revokedAt() == null
                    && "agent".equals(token.get().scope())
                    && name.equals(token.get().app())) {
                return false;
            }
        }
        // This server's earlier embedded agents' tokens go (servers sharing a database each have their own).
        String mine = "embedded agent of server " + serverId;
        tokens.list().stream()
                .filter(t -> t.revokedAt() == null
                        && "agent".equals(t.scope())
                        && name.equals(t.app())
                        && t.description() != null
                        && t.description().startsWith(mine))
                .forEach(t -> tokens.revoke(t.id()));
        Tokens.Created created = tokens.create("agent", name, mine + " (kept in DATA/agent.token while it runs)", null);
        DurableFiles.writeAtomically(file, created.secret() + "\n", true);
        return true;
    }

    /**
     * Starts the agent in a session of its own (setsid), so that a terminal's Ctrl-C or the end of the server's
     * process group does not reach it; its output goes to {@code home/agent.log}.
     */
    private static Process launch(Path home, List<String> command, List<String> options) throws IOException {
        Files.createDirectories(home);
        List<String> full = new ArrayList<>();
        Path setsid = Path.of("/usr/bin/setsid");
        if (Files.isExecutable(setsid)) full.add(setsid.toString());
        full.addAll(command);
        full.addAll(options);
        ProcessBuilder builder = new ProcessBuilder(full)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        home.resolve("agent.log").toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        return builder.start();
    }

    private static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
