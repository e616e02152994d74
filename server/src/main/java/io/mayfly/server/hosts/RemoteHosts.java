package io.mayfly.server.hosts;

import io.mayfly.server.http.ApiError;

import io.mayfly.wire.StagedTest;
import io.mayfly.server.registry.SigningKey;
import io.mayfly.server.release.AppLogs;
import io.mayfly.wire.Progress;
import io.mayfly.server.store.AppConfig;
import io.mayfly.server.store.Agents;
import io.mayfly.server.store.Builds;
import io.mayfly.server.store.Formation;
import io.mayfly.server.store.Releases;
import io.mayfly.server.target.BootArguments;
import io.mayfly.server.target.DeployTarget;
import io.mayfly.wire.AgentViews;
import io.mayfly.wire.manifest.Manifest;
import io.mayfly.wire.manifest.ManifestException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import io.mayfly.wire.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.HashSet;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The server's side of remote agents. Each app is placed on one registered agent that offers its driver, the one
 * with the most free memory; what an agent must run (its desired state) is computed from the placements and the
 * releases, and pushed to the agent's event stream whenever it changes. A deploy sets the app's target release,
 * and waits for the agent to report it live or failed; the agent does the health-gated switch itself, so a failed
 * deploy leaves the old instances serving there. An agent silent past the timeout is marked down and its apps are
 * placed on the others, which boot their live releases.
 */
public final class RemoteHosts implements DeployTarget, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RemoteHosts.class);
    /** How often agents report; the timeout is a few of these. */
    public static final Duration HEARTBEAT = Duration.ofSeconds(1);
    /** On top of the health timeout: time for the agent to hear of the deploy and fetch the artifacts. */
    private static final Duration DEPLOY_MARGIN = Duration.ofSeconds(60);
    /** How often a deploy waiting for a report looks in the database (where another server keeps it). */
    private static final Duration REPORT_POLL = Duration.ofMillis(100);

    private final Agents agents;
    private final Releases releases;
    private final Builds builds;
    private final Formation formation;
    private final AppConfig config;
    private final SigningKey signingKey;
    private final AppLogs logs;
    private final Duration timeout;
    private final AtomicLong generation = new AtomicLong(System.currentTimeMillis());
    private final Map<String, CompletableFuture<AgentViews.DeployReport>> pending = new ConcurrentHashMap<>();
    /** The push (or other caller) waiting on each pending deploy: what the agent says along the way is shown there. */
    private final Map<String, Progress> watching = new ConcurrentHashMap<>();
    /** The staged test of each pending deploy that has one, run when the agent has a healthy new instance. */
    private final Map<String, StagedTest> tests = new ConcurrentHashMap<>();
    /** Why each agent's missing drivers cannot run there, as it said when it registered. */
    private final Map<String, Map<String, String>> unavailable = new ConcurrentHashMap<>();
    /** The Mayfly version each agent registered with since this server started. */
    private final Map<String, String> versions = new java.util.concurrent.ConcurrentHashMap<>();
    /** How many reports each agent made since this server started. */
    private final Map<String, Long> reportsFrom = new java.util.concurrent.ConcurrentHashMap<>();
    private final String embedded;
    /** This server's id among those sharing the database: deploy targets name the server waiting for them. */
    private final String serverId;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    /** What each agent's router served, per app, as its last heartbeat said (since the agent started). */
    private final Map<String, List<AgentViews.RequestTotals>> requests = new ConcurrentHashMap<>();
    /** What each agent's drivers said of its host at its last heartbeat (driver to detail). */
    private final Map<String, Map<String, String>> driverDetails = new ConcurrentHashMap<>();
    /** The drivers each agent must make forget what they learnt, told in the answer to its next heartbeat. */
    private final Map<String, Set<String>> reprobes = new ConcurrentHashMap<>();
    private volatile Instant startedAt = Instant.now();
    private final Map<String, List<Consumer<AgentViews.DesiredState>>> listeners = new ConcurrentHashMap<>();
    private volatile Thread monitor;
    private volatile String lastStamp;
    private volatile boolean closed;

    /**
     * @param embedded the name of the agent running inside the server process, the only one it places apps on;
     *                 null when the server runs with --no-agent and places them on remote agents
     */
    public RemoteHosts(Agents agents, Releases releases, Builds builds, Formation formation, AppConfig config, SigningKey signingKey,
                       AppLogs logs, Duration timeout, String embedded, String serverId) {
        this.embedded = embedded;
        this.serverId = serverId;
        this.agents = agents;
        this.releases = releases;
        this.builds = builds;
        this.formation = formation;
        this.config = config;
        this.signingKey = signingKey;
        this.logs = logs;
        this.timeout = timeout;
    }

    /**
     * Starts marking silent agents down (checked every heartbeat). For one timeout after the start, none is: after
     * a server restart every agent has been silent, and each needs a moment to reconnect.
     */
    public RemoteHosts start() {
        startedAt = Instant.now();
        monitor = Thread.ofVirtual().name("agent-monitor").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(HEARTBEAT);
                    checkSilent();
                    resync();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    log.error("checking agents failed", e);
                }
            }
        });
        return this;
    }

    /** The agent inside the server process, or null (--no-agent). */
    public String embedded() { return embedded; }

    private volatile ReportedRouterMetrics routerMetrics;

    /** Shows what the agents' routers report on {@code registry} ({@code /metrics}), as their own timers would be. */
    public RemoteHosts reportRouterMetricsTo(io.micrometer.core.instrument.MeterRegistry registry) {
        routerMetrics = new ReportedRouterMetrics(registry, () -> requests);
        return this;
    }

    /** Whether {@code name} has registered or reported since this server started, and with which Mayfly version. */
    public Optional<String> registeredVersion(String name) {
        return Optional.ofNullable(versions.get(name));
    }

    public AgentViews.Registered register(String name, AgentViews.Registration registration) {
        int protocol = registration.protocol() == 0 ? 1 : registration.protocol();
        String version = io.mayfly.wire.Version.said(registration.version());
        if (protocol != AgentViews.PROTOCOL) {
            String upgrade = protocol < AgentViews.PROTOCOL ? "the agent" : "the server";
            throw new io.mayfly.server.http.ApiError(409, "agent " + name + " (Mayfly " + version + ") speaks agent protocol " + protocol
                    + ", this server (Mayfly " + io.mayfly.wire.Version.CURRENT + ") speaks " + AgentViews.PROTOCOL,
                    "upgrade " + upgrade + " to the same Mayfly version as the other");
        }
        if (!version.equals(io.mayfly.wire.Version.CURRENT)) {
            log.warn("agent {} runs Mayfly {}, this server {}: they speak the same protocol; upgrade one when you can", name, version,
                    io.mayfly.wire.Version.CURRENT);
        }
        versions.put(name, version);
        agents.register(name, registration);
        unavailable.put(name, registration.unavailable() == null ? Map.of() : Map.copyOf(registration.unavailable()));
        log.info("agent {} registered: drivers {}, {} MiB, router {}", name, registration.drivers(), registration.capacityMb(), registration.router());
        return new AgentViews.Registered(name, java.util.Base64.getEncoder().encodeToString(signingKey.publicKeyDer()),
                signingKey.fingerprint(), HEARTBEAT.toMillis());
    }

    /** A heartbeat: records what the agent runs and settles the deploys it reports. False: the agent must register first. */
    public boolean report(String name, AgentViews.Status status) {
        // What it says counts only for the apps placed on it: an agent token cannot settle another host's deploy,
        // nor write to another app's log. Read once per heartbeat.
        Set<String> placed = new HashSet<>(agents.appsOn(name));
        // The deploys first: a push waits for them, and nothing below changes what they say.
        if (status.deploys() != null) {
            for (AgentViews.DeployReport d : status.deploys()) {
                if (!placed.contains(d.app())) continue;
                if (d.rolledBackTo() > 0) {
                    rolledBack(name, d);
                    continue;
                }
                CompletableFuture<AgentViews.DeployReport> waiting = pending.get(key(d.app(), d.release()));
                if (waiting != null) {
                    waiting.complete(d);
                    continue;
                }
                // Another server sharing the database may wait for it: it reads the report from there.
                agents.target(d.app()).filter(t -> t.version() == d.release() && !serverId.equals(t.server()))
                        .ifPresent(t -> agents.recordReport(d.app(), d.release(), Json.write(d)));
            }
        }
        if (!agents.report(name, status.instances() == null ? List.of() : status.instances())) return false;
        // Heard from since this server started (an agent that outlived the server's restart reports on, unregistered).
        versions.put(name, io.mayfly.wire.Version.said(status.version()));
        reportsFrom.merge(name, 1L, Long::sum);
        if (status.console() != null) mirror(name, status.console(), placed);
        if (status.requests() != null) {
            requests.put(name, List.copyOf(status.requests()));
            // Timers only for the apps placed on it: an agent token cannot add meters for any name it likes.
            if (routerMetrics != null) routerMetrics.saw(status.requests().stream().filter(t -> placed.contains(t.app())).toList());
        }
        if (status.drivers() != null) driverDetails.put(name, Map.copyOf(status.drivers()));
        if (status.events() != null) {
            for (AgentViews.AppEvent e : status.events()) {
                if (placed.contains(e.app())) logs.event(e.app(), "agent " + name + ": " + e.line());
            }
        }
        return true;
    }

    /**
     * A release failed in its liveness window and the agent moved the traffic back: the release it went back to is the
     * live one again (the agent's desired state follows), and the app's log says what happened.
     */
    private void rolledBack(String agent, AgentViews.DeployReport d) {
        if (!releases.rollBack(d.app(), d.release(), d.reason(), d.rolledBackTo())) return; // a later deploy already replaced it
        logs.event(d.app(), "v" + d.release() + " " + d.reason() + "; v" + d.rolledBackTo() + " is the live release again"
                + (agent.equals(embedded) ? "" : " (agent " + agent + ")"));
        changed(agent);
    }

    /** Keeps what the agent's instances printed, for mayfly logs: only for apps placed on that agent. */
    private void mirror(String agent, List<AgentViews.ConsoleChunk> chunks, Set<String> placed) {
        for (AgentViews.ConsoleChunk c : chunks) {
            if (!INSTANCE_ID.matcher(c.instance()).matches() || !placed.contains(c.app())) continue;
            try {
                logs.mirrorConsole(c.app(), c.instance(), c.offset(), c.length(), c.text());
            } catch (IOException | RuntimeException e) {
                log.warn("cannot keep the console output of {} from agent {}: {}", c.instance(), agent, e.toString());
            }
        }
    }

    private static final java.util.regex.Pattern INSTANCE_ID = java.util.regex.Pattern.compile("[a-z0-9][a-z0-9-]{0,100}");

    /**
     * Deploys release {@code version} of {@code app} on its agent (placing it first if needed) and waits for the
     * agent's report. The target stays set until {@link #settled} is called, once the outcome is recorded.
     */
    @Override
    public Outcome deploy(String app, int version, Manifest manifest, StagedTest test, Progress progress) throws InterruptedException {
        Optional<String> host = placeFor(app, manifest);
        if (host.isEmpty()) return new Outcome.Failed(noAgentFor(app, manifest.run().driver()), Map.of());
        String agent = host.get();
        if (!agent.equals(embedded)) progress.say("-----> Deploying v" + version + " on agent " + agent);
        if (test != StagedTest.NONE) tests.put(key(app, version), test);
        // Rolling deploys health-check one instance after another.
        int instances = Math.max(1, formation.instances(app).orElse(manifest.run().instances()));
        Duration bound = manifest.health().timeout().multipliedBy(instances).plus(DEPLOY_MARGIN)
                .plus(test == StagedTest.NONE || manifest.test().timeout() == null ? Duration.ZERO : manifest.test().timeout());
        try {
            return await(app, version, agent, bound, progress, test != StagedTest.NONE);
        } finally {
            tests.remove(key(app, version));
        }
    }

    /**
     * {@code ps:scale}: the app's agent boots (health-gated) or drains the difference between what runs and the
     * app's formation, and this waits for it to say it did.
     */
    @Override
    public Outcome rescale(String app, int version, Manifest manifest, Progress progress) throws InterruptedException {
        Optional<String> agent = agents.placement(app);
        if (agent.isEmpty()) return new Outcome.Failed(app + " is placed on no agent; deploy it first", Map.of());
        int instances = Math.max(1, formation.instances(app).orElse(manifest.run().instances()));
        try {
            return await(app, version, agent.get(), manifest.health().timeout().multipliedBy(instances).plus(DEPLOY_MARGIN), progress, false);
        } finally {
            settled(app, version);
        }
    }

    /**
     * Sets the app's target to {@code version} and waits for the agent's report: straight from the agent when it
     * follows this server, else from the database, where the server it follows keeps it.
     */
    private Outcome await(String app, int version, String agent, Duration bound, Progress given, boolean test)
            throws InterruptedException {
        Progress progress = given.serialized(); // the agent's lines arrive on request threads of their own
        CompletableFuture<AgentViews.DeployReport> report = new CompletableFuture<>();
        pending.put(key(app, version), report);
        watching.put(key(app, version), progress);
        agents.setTarget(app, version, test, serverId);
        long sent = System.nanoTime();
        changed(agent);
        try {
            AgentViews.DeployReport r = null;
            long deadline = sent + bound.toNanos();
            while (r == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) throw new TimeoutException();
                try {
                    r = report.get(Math.min(left, REPORT_POLL.toNanos()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException notYet) {
                    r = agents.report(app, version).map(json -> Json.read(json, AgentViews.DeployReport.class)).orElse(null);
                }
            }
            if (r.lines() != null) r.lines().forEach(progress::say); // those it could not send as it went
            Map<String, Long> phases = new java.util.LinkedHashMap<>();
            phases.put("dispatch", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent)
                    - (r.phases() == null ? 0 : r.phases().values().stream().mapToLong(Long::longValue).sum()));
            if (r.phases() != null) phases.putAll(r.phases());
            return r.live() ? new Outcome.Live(phases)
                    : new Outcome.Failed((agent.equals(embedded) ? "" : "on agent " + agent + ": ") + r.reason(), phases);
        } catch (TimeoutException e) {
            return new Outcome.Failed("agent " + agent + " did not report v" + version + " live or failed within "
                    + bound.toSeconds() + " s; it keeps what it ran before (see mayfly agents)", Map.of());
        } catch (ExecutionException e) {
            return new Outcome.Failed("deploy on agent " + agent + " failed: " + e.getCause(), Map.of());
        } finally {
            pending.remove(key(app, version));
            watching.remove(key(app, version));
        }
    }

    /** Why no agent takes the app: none offers the driver, and what those up said of it. */
    private String noAgentFor(String app, String driver) {
        List<String> why = agents.all().stream().filter(a -> a.status() == Agents.Status.up)
                .map(a -> Optional.ofNullable(unavailable.getOrDefault(a.name(), Map.of()).get(driver)).map(r -> a.name() + ": " + r))
                .flatMap(Optional::stream).toList();
        if (embedded != null) {
            return "the " + driver + " driver cannot run on this server" + (why.isEmpty() ? "" : " (" + String.join("; ", why) + ")")
                    + "; see mayfly drivers";
        }
        return "no agent can run " + app + ": none is up that offers the " + driver + " driver"
                + (why.isEmpty() ? "" : " (" + String.join("; ", why) + ")")
                + "; start one with mayfly agent --server URL --token TOKEN (see mayfly agents)";
    }

    /**
     * What a deploy on {@code agent} says as it goes, shown to whoever waits for it: here, or on the server sharing
     * the database that waits for it (passed on with the agent's own {@code authorization}). False: nobody waits.
     */
    public boolean lines(String agent, AgentViews.DeployLines lines, String authorization) throws InterruptedException {
        if (!agents.placement(lines.app()).map(agent::equals).orElse(false)) return false;
        Progress progress = watching.get(key(lines.app(), lines.release()));
        if (progress != null) {
            lines.lines().forEach(progress::say);
            return true;
        }
        Optional<String> elsewhere = waitingServer(lines.app(), lines.release());
        if (elsewhere.isEmpty()) return false;
        return forward(elsewhere.get(), "/api/v1/agents/" + agent + "/lines", authorization, Json.write(lines))
                .map(r -> r.statusCode() / 100 == 2).orElse(false);
    }

    /** The API address of the other server waiting for this deploy, if one does. */
    private Optional<String> waitingServer(String app, int version) {
        return agents.target(app).filter(t -> t.version() == version && t.server() != null && !serverId.equals(t.server()))
                .flatMap(t -> agents.serverUrl(t.server()));
    }

    /** Passes an agent's request on to another server sharing the database; empty if it cannot be reached. */
    private Optional<HttpResponse<String>> forward(String server, String path, String authorization, String body)
            throws InterruptedException {
        try {
            return Optional.of(http.send(HttpRequest.newBuilder(URI.create(server + path)).timeout(Duration.ofMinutes(30))
                    .header("Authorization", authorization == null ? "" : authorization).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
        } catch (IOException | IllegalArgumentException e) {
            log.warn("cannot pass an agent's request on to {}{}: {}", server, path, e.toString());
            return Optional.empty();
        }
    }

    /**
     * Runs the staged test of a pending deploy against the new instance the agent named, at the address the agent
     * called from ({@code agentHost}, or the one a server passing the request on saw): the instance's port must be
     * reachable from the server. A deploy waiting on another server sharing the database has its test run there.
     * (An agent could name another address itself; the test's output goes only to the push, which the agent's token
     * cannot read.)
     */
    public AgentViews.StagedTestResult test(String agent, String agentHost, AgentViews.StagedTestRequest request, String authorization)
            throws InterruptedException {
        String gone = "the server no longer waits for " + request.app() + " v" + request.release() + " on agent " + agent
                + " (it restarted, or the deploy ended)";
        if (!agents.placement(request.app()).map(agent::equals).orElse(false)) return new AgentViews.StagedTestResult(gone);
        // The agent's address as this server saw it, or as the server that passed the request on saw it.
        String address = request.host() != null ? request.host() : agentHost;
        StagedTest test = tests.get(key(request.app(), request.release()));
        if (test == null) {
            // The deploy may wait on another server sharing the database: the build's checkout and the test are there.
            Optional<String> elsewhere = waitingServer(request.app(), request.release());
            if (elsewhere.isEmpty()) return new AgentViews.StagedTestResult(gone);
            var passed = new AgentViews.StagedTestRequest(request.app(), request.release(), request.port(), address);
            return forward(elsewhere.get(), "/api/v1/agents/" + agent + "/tests", authorization, Json.write(passed))
                    .filter(r -> r.statusCode() == 200).map(r -> Json.read(r.body(), AgentViews.StagedTestResult.class))
                    .orElse(new AgentViews.StagedTestResult("the server running the deploy (" + elsewhere.get() + ") could not be reached"));
        }
        String host = address.contains(":") ? "[" + address + "]" : address;
        return new AgentViews.StagedTestResult(test.run("http://" + host + ":" + request.port()));
    }

    /** The outcome of the app's deploy is recorded: its agent runs the live release again (the new one, or the old). */
    @Override
    public void settled(String app, int version) {
        agents.clearTarget(app, version);
        agents.placement(app).ifPresent(this::changed);
    }

    /** The app is about to be deleted: returns what tells its agent, once it is, to stop running it. */
    @Override
    public Runnable forgetting(String app) {
        Optional<String> agent = agents.placement(app);
        return () -> agent.ifPresent(this::changed);
    }

    /** Something about the app changed (scale): its agent gets a new desired state. */
    @Override
    public void appChanged(String app) {
        agents.placement(app).ifPresent(this::changed);
    }

    /** The router URL the app is served at, on its remote agent (null until placed, and on the embedded agent). */
    @Override
    public String url(String app) {
        return agents.placement(app).filter(a -> !a.equals(embedded)).flatMap(agents::find).map(a -> "http://" + app + ".localhost:" + port(a.router())).orElse(null);
    }

    /** The app's instances as the agents running them last reported them (an app that moved may be on two for a while). */
    public List<io.mayfly.wire.Views.InstanceView> instances(String app) {
        List<io.mayfly.wire.Views.InstanceView> views = new ArrayList<>();
        for (Agents.Agent a : agents.all()) {
            for (AgentViews.InstanceReport i : a.instances()) {
                if (!i.app().equals(app)) continue;
                String state = a.status() == Agents.Status.down ? "unknown (agent down)" : !i.alive() ? "exited"
                        : i.watchedUntil() != null && i.standby() ? "standing by until " + clock(i.watchedUntil())
                        : i.watchedUntil() != null && i.routed() ? "serving, on watch until " + clock(i.watchedUntil())
                        : i.routed() ? "serving" : "staged";
                views.add(new io.mayfly.wire.Views.InstanceView(i.id(), i.app(), i.release(), i.driver(), state, i.port(), i.pid(),
                        i.startedAt(), i.restarts(), a.name().equals(embedded) ? null : a.name()));
            }
        }
        return views;
    }

    /** A time of day as ps shows it (UTC), e.g. 14:03:27. */
    private static String clock(Instant t) {
        return java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss").withZone(java.time.ZoneOffset.UTC).format(t);
    }

    /** What the routers of the agents served, keyed by agent. */
    public Map<String, List<AgentViews.RequestTotals>> requestTotals() {
        return Map.copyOf(requests);
    }

    /** Each driver some agent offers: available while an agent offering it is up; which agents; instances on it. */
    public List<io.mayfly.wire.Views.DriverView> drivers() {
        java.util.Map<String, List<Agents.Agent>> offering = new java.util.TreeMap<>();
        List<Agents.Agent> all = agents.all();
        for (Agents.Agent a : all) a.drivers().forEach(d -> offering.computeIfAbsent(d, x -> new ArrayList<>()).add(a));
        List<io.mayfly.wire.Views.DriverView> views = new ArrayList<>();
        offering.forEach((driver, by) -> {
            List<String> up = by.stream().filter(a -> a.status() == Agents.Status.up).map(Agents.Agent::name).toList();
            List<String> down = by.stream().filter(a -> a.status() != Agents.Status.up).map(Agents.Agent::name).toList();
            int instances = (int) all.stream().flatMap(a -> a.instances().stream()).filter(i -> i.driver().equals(driver)).count();
            List<String> said = up.stream().filter(a -> driverDetails.getOrDefault(a, Map.of()).containsKey(driver))
                    .map(a -> a + ": " + driverDetails.get(a).get(driver)).toList();
            String detail = (up.isEmpty() ? "no agent offering it is up" : "offered by " + String.join(", ", up))
                    + (down.isEmpty() ? "" : "; down: " + String.join(", ", down)) + (said.isEmpty() ? "" : "; " + String.join("; ", said));
            if (embedded != null && by.stream().anyMatch(a -> a.name().equals(embedded))) {
                // This server's own host: what the driver says of it, as before the agent had a process of its own.
                String here = driverDetails.getOrDefault(embedded, Map.of()).get(driver);
                detail = up.contains(embedded) ? (here != null ? here : "available") : "the embedded agent is down";
            }
            views.add(new io.mayfly.wire.Views.DriverView(driver, !up.isEmpty(), detail, instances));
        });
        // Those the embedded agent cannot run, with why (what to install).
        java.util.Map<String, List<String>> missing = new java.util.TreeMap<>();
        for (Agents.Agent a : all) {
            unavailable.getOrDefault(a.name(), Map.of()).forEach((driver, why) -> {
                // The embedded agent's only: a server with remote agents lists what they offer.
                if (!offering.containsKey(driver) && a.name().equals(embedded)) {
                    missing.computeIfAbsent(driver, x -> new ArrayList<>()).add(why);
                }
            });
        }
        missing.forEach((driver, why) -> views.add(new io.mayfly.wire.Views.DriverView(driver, false, String.join("; ", why), 0)));
        return views;
    }

    /**
     * Asks the agents offering {@code driver} (only {@code agent}, when named) to make it forget what it learnt about
     * their host, at their next heartbeat. Returns the agents asked.
     */
    public List<String> reprobe(String driver, String agent) {
        List<String> asked = agents.all().stream().filter(a -> a.drivers().contains(driver) && (agent == null || a.name().equals(agent)))
                .map(Agents.Agent::name).toList();
        asked.forEach(a -> reprobes.computeIfAbsent(a, x -> ConcurrentHashMap.newKeySet()).add(driver));
        return asked;
    }

    /**
     * Waits (at most {@code bound}) until {@code agent} has been told to make {@code driver} forget and has reported
     * since; returns what the driver says of the host then, or empty if it has not.
     */
    public Optional<String> awaitReprobed(String agent, String driver, Duration bound) throws InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        long seen = -1;
        while (System.nanoTime() < deadline) {
            Set<String> pending = reprobes.get(agent);
            long reports = reportsFrom.getOrDefault(agent, 0L);
            if (pending == null || !pending.contains(driver)) {
                if (seen < 0) seen = reports; // answered: the report after this one says what it learnt
                else if (reports > seen) return Optional.ofNullable(driverDetails.getOrDefault(agent, Map.of()).get(driver));
            }
            Thread.sleep(20);
        }
        return Optional.empty();
    }

    /** The answer to {@code agent}'s heartbeat: the drivers it must make forget, each said once. */
    public AgentViews.StatusAnswer answer(String agent) {
        Set<String> drivers = reprobes.remove(agent);
        return new AgentViews.StatusAnswer(drivers == null ? List.of() : List.copyOf(drivers));
    }

    public List<AgentViews.AgentView> views() {
        List<AgentViews.AgentView> views = new ArrayList<>();
        for (Agents.Agent a : agents.all()) {
            List<String> apps = agents.appsOn(a.name());
            long served = requests.getOrDefault(a.name(), List.of()).stream().mapToLong(AgentViews.RequestTotals::count).sum();
            views.add(new AgentViews.AgentView(a.name(), a.status().name(), a.drivers(), a.capacityMb(), usedMb(a.name()), a.router(),
                    apps, a.instances().size(), a.lastContact(), served, versions.get(a.name())));
        }
        return views;
    }

    /** What the agent must run now: for every app placed on it, the release being deployed or else the live one. */
    public AgentViews.DesiredState desired(String agent) {
        List<AgentViews.Assignment> assignments = new ArrayList<>();
        for (String app : agents.appsOn(agent)) {
            Optional<Agents.Target> target = agents.target(app);
            // This server's embedded agent follows a deploy another server sharing the database runs as it would a
            // release gone live elsewhere: nobody here waits for it, so it switches by itself and says so in the log.
            boolean deploying = target.isPresent() && !(agent.equals(embedded) && target.get().server() != null
                    && !serverId.equals(target.get().server()));
            releaseFor(app, target).flatMap(r -> assignment(r, deploying, target.map(Agents.Target::test).orElse(false)))
                    .ifPresent(assignments::add);
        }
        Supplier<List<String>> apps = appNames;
        return new AgentViews.DesiredState(agent, generation.get(), assignments,
                agent.equals(embedded) && apps != null ? apps.get() : List.of());
    }

    private volatile Supplier<List<String>> appNames;

    /** The embedded agent's router knows every app of {@code names}, released or not (a new app answers 503, not 404). */
    public RemoteHosts declaringApps(Supplier<List<String>> names) {
        appNames = names;
        return this;
    }

    /** An app was created or destroyed: the embedded agent's router learns it. */
    @Override
    public void appsChanged() {
        if (embedded != null) changed(embedded);
    }

    /** The release the app's agent must run: the one being deployed (its target), or else the live one. */
    private Optional<Releases.Release> releaseFor(String app, Optional<Agents.Target> target) {
        return target.isPresent() ? releases.find(app, target.get().version()) : releases.live(app);
    }

    /** Whether {@code sha256} is an artifact of something the agent must run (what its token may download). */
    public boolean assigned(String agent, String sha256) {
        // The releases of its desired state, without making the whole of it (no signatures, no config to open).
        for (String app : agents.appsOn(agent)) {
            Optional<Releases.Release> release = releaseFor(app, agents.target(app));
            if (release.flatMap(r -> manifest(r).map(m -> booted(r, m))).orElse(List.of()).stream().anyMatch(a -> a.sha256().equals(sha256))) {
                return true;
            }
        }
        return false;
    }

    /** Calls {@code listener} with the agent's desired state now and at every change, until the returned handle is run. */
    public Runnable subscribe(String agent, Consumer<AgentViews.DesiredState> listener) {
        List<Consumer<AgentViews.DesiredState>> list = listeners.computeIfAbsent(agent, a -> new CopyOnWriteArrayList<>());
        list.add(listener);
        listener.accept(desired(agent));
        return () -> list.remove(listener);
    }

    private void changed(String agent) {
        generation.incrementAndGet();
        List<Consumer<AgentViews.DesiredState>> list = listeners.get(agent);
        if (list == null || list.isEmpty()) return;
        AgentViews.DesiredState state = desired(agent);
        list.forEach(l -> l.accept(state));
    }

    private Optional<AgentViews.Assignment> assignment(Releases.Release release, boolean deploying, boolean test) {
        Optional<Manifest> parsed = manifest(release);
        if (parsed.isEmpty()) return Optional.empty();
        Manifest manifest = parsed.get();
        List<AgentViews.AssignedArtifact> artifacts = booted(release, manifest).stream()
                .map(a -> new AgentViews.AssignedArtifact(a.name(), a.sha256(), signingKey.signArtifact(a.sha256()))).toList();
        // None (its build is gone): the agent says it cannot run it, and keeps what it runs rather than stopping it.
        Map<String, String> vars = config.cipher().open(release.config());
        List<String> args = manifest.run().args().stream().map(a -> BootArguments.fill(a, vars)).toList();
        int instances = formation.instances(release.app()).orElse(manifest.run().instances()); // 0: the agent scales it to zero
        return Optional.of(new AgentViews.Assignment(release.app(), release.version(), release.manifest(), args, vars, artifacts, instances,
                deploying, test));
    }

    private static Optional<Manifest> manifest(Releases.Release release) {
        try {
            return Optional.of(Manifest.parse("mayfly.toml (release v" + release.version() + ")", release.manifest()));
        } catch (ManifestException e) {
            log.error("the stored manifest of {} v{} no longer parses", release.app(), release.version(), e);
            return Optional.empty();
        }
    }

    /** The artifacts an agent boots a release from, the boot image first: its main artifact, then its initrd if any. */
    private List<Builds.Artifact> booted(Releases.Release release, Manifest manifest) {
        return builds.find(release.app(), release.build()).map(b -> java.util.stream.Stream.of(b.main(manifest.build().artifact()),
                        Optional.ofNullable(manifest.build().initrd()).flatMap(b::artifact)).flatMap(Optional::stream).toList())
                .orElse(List.of());
    }

    /** Places the app ({@link Placement}) and records where; the agent it leaves is told. */
    private synchronized Optional<String> placeFor(String app, Manifest manifest) {
        String driver = manifest.run().driver();
        List<Agents.Agent> all = agents.all().stream().filter(a -> embedded == null || a.name().equals(embedded)).toList();
        Optional<String> current = agents.placement(app);
        // Free memory only where it can matter: each figure reads the releases of every app placed there.
        List<Placement.Candidate> candidates = all.stream().map(a -> {
            boolean eligible = a.status() == Agents.Status.up && a.drivers().contains(driver);
            return new Placement.Candidate(a.name(), a.status() == Agents.Status.up, Set.copyOf(a.drivers()),
                    eligible && !current.equals(Optional.of(a.name())) ? a.capacityMb() - usedMb(a.name()) : 0);
        }).toList();
        Optional<String> chosen = Placement.choose(driver, current, candidates);
        if (chosen.isPresent() && !chosen.equals(current)) {
            agents.place(app, chosen.get());
            current.ifPresent(this::changed); // the old agent stops running it
            if (!chosen.get().equals(embedded)) {
                logs.event(app, "placed on agent " + chosen.get() + (current.isPresent() ? " (was on " + current.get() + ")" : ""));
            }
        }
        return chosen;
    }

    /** Memory the agent's placed apps take: each live release's run.memory times its instances. */
    private long usedMb(String agent) {
        long used = 0;
        for (String app : agents.appsOn(agent)) {
            Optional<Releases.Release> live = releases.live(app);
            if (live.isEmpty()) continue;
            try {
                Manifest m = Manifest.parse("mayfly.toml", live.get().manifest());
                used += (m.run().memoryBytes() >> 20) * Math.max(1, formation.instances(app).orElse(m.run().instances()));
            } catch (ManifestException e) {
                // counted as nothing; the error is reported where the release is used
            }
        }
        return used;
    }

    /**
     * When another server sharing the database changed what some agent must run (a release went live or failed
     * there, a scale, a placement), the agents following this server hear of it within a heartbeat: their desired
     * state is sent again, and each agent acts only on what differs from what it runs.
     */
    void resync() {
        String stamp = agents.changeStamp();
        if (stamp.equals(lastStamp)) return;
        boolean first = lastStamp == null;
        lastStamp = stamp;
        if (first) return; // what the agents have was made from this state
        listeners.forEach((agent, list) -> {
            if (!list.isEmpty()) changed(agent);
        });
    }

    /** Marks silent agents down and places their apps on the agents still up. */
    void checkSilent() {
        if (Instant.now().isBefore(startedAt.plus(timeout))) return; // agents are reconnecting after a server restart
        for (String down : agents.markSilentDown(Instant.now().minus(timeout))) {
            log.warn("agent {} has not reported for {} s: marked down", down, timeout.toSeconds());
            for (String app : agents.appsOn(down)) {
                Optional<Releases.Release> live = releases.live(app);
                if (live.isEmpty()) continue;
                try {
                    Manifest manifest = Manifest.parse("mayfly.toml", live.get().manifest());
                    Optional<String> moved = placeFor(app, manifest);
                    if (moved.isPresent() && !moved.get().equals(down)) {
                        logs.event(app, "agent " + down + " is down; v" + live.get().version() + " moves to agent " + moved.get());
                        changed(moved.get());
                    } else {
                        logs.event(app, "agent " + down + " is down and no other agent offers " + manifest.run().driver() + "; " + app + " waits for one");
                    }
                } catch (ManifestException e) {
                    log.error("cannot move {}: its manifest no longer parses", app, e);
                }
            }
        }
    }

    private static String key(String app, int release) {
        return app + "/" + release;
    }

    private static String port(String address) {
        return address == null ? "?" : address.substring(address.lastIndexOf(':') + 1);
    }

    /** Whether the server is stopping: event streams end so that it can. */
    public boolean closed() { return closed; }

    @Override
    public void close() {
        closed = true;
        Thread t = monitor;
        if (t != null) t.interrupt();
    }
}
