package io.mayfly.dist;

import io.mayfly.agent.Agent;
import io.mayfly.agent.Drivers;
import io.mayfly.agent.reconcile.RestartPolicy;
import io.mayfly.agent.remote.AgentLock;
import io.mayfly.agent.remote.RemoteAgent;
import io.mayfly.agent.router.Router;
import io.mayfly.agent.watch.RegistryWatch;
import io.mayfly.server.build.BuildWorker;
import io.mayfly.server.build.SandboxedBuild;
import io.mayfly.wire.AgentViews;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code mayfly agent}: a host that runs instances with its own router. Either run by a server ({@code --server
 * URL}, with an agent token), or pulling one app from a registry by itself ({@code --watch URL}, with read access).
 */
@Command(
        name = "agent",
        mixinStandardHelpOptions = true,
        description = {
            "Run an agent: a host with its own drivers and router.",
            "--server URL: run what the server assigns to this host (an agent token: mayfly tokens:create --agent NAME).",
            "--watch URL: watch a registry URL (BASE/job/APP/build/latest) and deploy each new build, health-gated."
        })
public final class AgentCommand implements Callable<Integer> {
    @Option(names = "--watch", paramLabel = "URL", description = "e.g. http://127.0.0.1:7070/job/hello/build/latest")
    String watch;

    @Option(
            names = "--server",
            paramLabel = "URL",
            description = "the Mayfly server that assigns this host its apps, e.g. http://10.0.0.1:7070")
    String server;

    @Option(
            names = "--name",
            description = "this host's name at the server, as its agent token names it (default: the hostname)")
    String name;

    @Option(
            names = "--capacity",
            paramLabel = "MB",
            description = "memory the server may place on this host, in MiB (default: half of this machine's)")
    Long capacity;

    @Option(
            names = "--builds",
            description = "with --server: also run builds for the server (a build worker, in this host's sandbox)")
    boolean builds;

    @Option(
            names = "--no-stream",
            description =
                    "with --server: poll the desired state every --interval instead of following its event stream")
    boolean noStream;

    @Option(
            names = "--token",
            paramLabel = "TOKEN",
            description = "an agent token (--server) or a token with read access to the app (--watch) "
                    + "(default: $MAYFLY_TOKEN)")
    String token;

    @Option(
            names = "--take-over",
            description = "replace the agent running with the same --data (a new version of Mayfly, or new "
                    + "options): listen beside it on the router's port, adopt its instances, then let it finish its requests and exit; "
                    + "no request is dropped")
    boolean takeOver;

    @Option(
            names = "--token-file",
            paramLabel = "FILE",
            description = "read the token from this file (what mayfly server gives its embedded agent)")
    Path tokenFile;

    @Option(
            names = "--router",
            description = "HTTP router address (default: ${DEFAULT-VALUE})",
            defaultValue = "127.0.0.1:8080")
    String router;

    @Option(
            names = "--domain",
            description = "apps are served at APP.DOMAIN (default: ${DEFAULT-VALUE})",
            defaultValue = "localhost")
    String domain;

    @Option(names = "--data", description = "state directory (default: ~/.mayfly-agent)")
    Path data;

    @Option(
            names = "--interval",
            description = "how often to poll (--watch, or --server with --no-stream), e.g. 30s, 5s, 2m "
                    + "(default: 30s with --watch, 2s with --server)")
    String interval;

    @Option(
            names = "--key",
            paramLabel = "FINGERPRINT",
            description = "trust only a server signing key with this sha256 fingerprint")
    String key;

    @Mixin
    BuildPolicyOptions buildPolicy = new BuildPolicyOptions();

    @Mixin
    RouterTimeoutOptions timeouts;

    /** Held for the agent's life (a lock dropped by the collector would let a second agent in). */
    private AgentLock lock;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if ((watch == null) == (server == null)) {
            throw new picocli.CommandLine.ParameterException(
                    new picocli.CommandLine(this),
                    "say what this agent runs: --server URL (what a server assigns it) or --watch URL (one app from a registry)");
        }
        String secret = token != null
                ? token
                : tokenFile != null ? Files.readString(tokenFile).strip() : System.getenv("MAYFLY_TOKEN");
        if (secret == null || secret.isBlank()) {
            throw new picocli.CommandLine.ParameterException(
                    new picocli.CommandLine(this),
                    "--token (or MAYFLY_TOKEN) is needed: "
                            + (server != null
                                    ? "an agent token (mayfly tokens:create --agent NAME)"
                                    : "a token with read access to the app"));
        }
        Duration every =
                duration(interval != null ? interval : server != null ? "2s" : "30s", "--interval", spec.commandLine());
        Path dir = data != null ? data : Path.of(System.getProperty("user.home"), ".mayfly-agent");
        // One agent per data directory, for its whole life: a server finds its embedded agent running by this lock.
        Path home = dir.resolve("agent");
        lock = AgentLock.acquire(home, io.mayfly.wire.Version.CURRENT).orElse(null);
        java.util.Optional<AgentLock.Holder> previous = java.util.Optional.empty();
        if (lock == null) {
            previous = AgentLock.running(home);
            if (!takeOver || previous.isEmpty() || previous.get().pid() <= 0) {
                throw new picocli.CommandLine.ParameterException(
                        spec.commandLine(),
                        "another mayfly agent runs with " + dir
                                + previous.map(h -> " (pid " + h.pid() + ", Mayfly " + h.version() + ")")
                                        .orElse("")
                                + "; stop it first, pass another --data, or add --take-over to replace it without dropping a request");
            }
        }
        // Its timers go to the server with every heartbeat (--server), for the dashboard's chart of each app.
        var routerMetrics = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        Router proxy = new Router(
                domain,
                Runtime.getRuntime().availableProcessors(),
                routerMetrics,
                timeouts.header(),
                timeouts.defaults());
        // Taking over: this router listens beside the previous agent's (SO_REUSEPORT) until that one has drained.
        var address = proxy.start(ServerCommand.address(router, "--router"), previous.isPresent());
        // Its events about apps are printed here and, once it follows a server (--server), sent there too.
        var toServer = new java.util.concurrent.atomic.AtomicReference<io.mayfly.agent.AgentEvents>(
                io.mayfly.agent.AgentEvents.NONE);
        Agent agent = new Agent(
                dir.resolve("agent"),
                proxy,
                Drivers.all(dir.resolve("agent")),
                (app, line) -> {
                    say(app + ": " + line);
                    toServer.get().event(app, line);
                },
                RestartPolicy.DEFAULT);
        // Re-adopt what runs before anything else: routing resumes at once, whether the server is there or not.
        agent.recover();
        if (previous.isPresent()) takeOver(previous.get(), home);
        Runtime.getRuntime().addShutdownHook(new Thread(agent::close, "mayfly-agent-shutdown"));
        if (server != null) {
            return runForServer(
                    agent,
                    dir,
                    secret,
                    address.getHostString() + ":" + address.getPort(),
                    every,
                    routerMetrics,
                    toServer);
        }
        RegistryWatch watcher = new RegistryWatch(watch, secret, agent, dir, key, AgentCommand::say);
        agent.declare(watcher.app());
        say("watching " + watch + " every " + every.toSeconds() + " s; serving " + watcher.app() + " at http://"
                + watcher.app() + "." + domain + ":" + address.getPort());
        watcher.run(every);
        return 0;
    }

    private int runForServer(
            Agent agent,
            Path dir,
            String secret,
            String routerAddress,
            Duration every,
            io.micrometer.core.instrument.MeterRegistry routerMetrics,
            java.util.concurrent.atomic.AtomicReference<io.mayfly.agent.AgentEvents> toServer)
            throws Exception {
        String host = name != null
                ? name
                : java.net.InetAddress.getLocalHost().getHostName().toLowerCase(java.util.Locale.ROOT);
        long mb = capacity != null ? capacity : RemoteAgent.hostMemoryMb() / 2;
        AgentViews.Registration registration = RemoteAgent.registration(agent, mb, routerAddress);
        List<String> drivers = registration.drivers();
        RemoteAgent remote = new RemoteAgent(
                        URI.create(server),
                        host,
                        secret,
                        agent,
                        dir,
                        registration,
                        key,
                        !noStream,
                        every,
                        AgentCommand::say)
                .reportRequests(routerMetrics)
                .start();
        toServer.set(remote::event);
        if (builds) {
            SandboxedBuild builder = SandboxedBuild.onThisHost(
                    dir.resolve("builds").resolve("sandbox"), buildPolicy.policy(spec.commandLine(), dir));
            BuildWorker worker = new BuildWorker(
                    URI.create(server), host, secret, dir.resolve("builds"), builder, AgentCommand::say);
            Thread.ofVirtual().name("build-worker").start(worker);
            say("agent " + host + ": building for " + server + " (bubblewrap "
                    + (builder.sandbox().available() ? "found" : "missing: builds are not sandboxed") + ")");
        }
        say("agent " + host + ": drivers " + String.join(", ", drivers) + ", " + mb + " MiB; router at " + routerAddress
                + "; following " + server
                + (noStream ? " (polling every " + every.toSeconds() + " s)" : " (event stream)"));
        Runtime.getRuntime().addShutdownHook(new Thread(remote::close, "mayfly-remote-shutdown"));
        new java.util.concurrent.CountDownLatch(1).await();
        return 0;
    }

    /**
     * The rest of a take-over, once this agent routes and runs what the previous one did: the previous agent is told
     * to go (SIGTERM: its router stops listening and answers each open connection's next request with
     * {@code Connection: close}), and its lock is awaited. Connections that wait in the previous router's accept queue
     * when it stops listening move to this one ({@code net.ipv4.tcp_migrate_req}, set here when it is not).
     */
    private void takeOver(AgentLock.Holder previous, Path home) throws Exception {
        Path migrate = Path.of("/proc/sys/net/ipv4/tcp_migrate_req");
        try {
            if (Files.readString(migrate).strip().equals("0")) Files.writeString(migrate, "1");
        } catch (java.io.IOException e) {
            say("cannot set net.ipv4.tcp_migrate_req (" + e.getMessage()
                    + "): a connection queued at the previous agent's " + "router as it stops listening may be reset");
        }
        say("taking over from agent pid " + previous.pid() + " (Mayfly " + previous.version()
                + "): listening beside it, " + "its instances adopted; it finishes its requests and exits");
        ProcessHandle.of(previous.pid()).ifPresent(ProcessHandle::destroy);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while ((lock = AgentLock.acquire(home, io.mayfly.wire.Version.CURRENT).orElse(null)) == null) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "the previous agent (pid " + previous.pid() + ") did not exit within 60 s of SIGTERM");
            }
            Thread.sleep(20);
        }
        say("took over from agent pid " + previous.pid());
    }

    /** A duration as the flags take it: 250ms, 30s, 5m, 2h; else an error for the user of {@code command}. */
    static Duration duration(String text, String option, picocli.CommandLine command) {
        var m = java.util.regex.Pattern.compile("(\\d{1,9})(ms|s|m|h)").matcher(text.trim());
        if (!m.matches()) {
            throw new picocli.CommandLine.ParameterException(
                    command, option + " expects a duration like 250ms, 30s, 5m or 2h, got '" + text + "'");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    private static void say(String line) {
        System.out.println(Instant.now() + " " + line);
        System.out.flush();
    }
}
