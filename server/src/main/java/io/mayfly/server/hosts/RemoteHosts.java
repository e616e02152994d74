package io.mayfly.server.hosts;

import io.mayfly.server.registry.SigningKey;
import io.mayfly.server.release.AppLogs;
import io.mayfly.server.store.Agents;
import io.mayfly.server.store.AppConfig;
import io.mayfly.server.store.Builds;
import io.mayfly.server.store.Formation;
import io.mayfly.server.store.Releases;
import io.mayfly.server.target.DeployTarget;
import io.mayfly.wire.Progress;
import io.mayfly.wire.StagedTest;
import io.mayfly.wire.manifest.Manifest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool of agents as a deploy target: the embedded agent, or remote ones with {@code --no-agent}. A deploy places
 * the app ({@link AppPlacer}), sets its target release in its agent's desired state ({@link DesiredStates}) and waits
 * for the agent's report ({@link DeployWaits}); the agent does the health-gated switch itself, so a failed deploy
 * leaves the old instances serving there. What agents say is taken in by {@link AgentReports}, and shown by
 * {@link HostViews}. An agent silent past the timeout is marked down and its apps are placed on the others, which
 * boot their live releases.
 */
public final class RemoteHosts implements DeployTarget, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RemoteHosts.class);
    /** How often agents report; the timeout is a few of these. */
    public static final Duration HEARTBEAT = Duration.ofSeconds(1);
    /** On top of the health timeout: time for the agent to hear of the deploy and fetch the artifacts. */
    private static final Duration DEPLOY_MARGIN = Duration.ofSeconds(60);

    private final Agents agents;
    private final Formation formation;
    private final String embedded;
    private final DesiredStates desired;
    private final DeployWaits waits;
    private final AgentReports reports;
    private final AppPlacer placer;
    private final HostViews views;
    private volatile Thread monitor;
    private volatile boolean closed;

    /**
     * @param embedded the name of the agent the server starts on its own host, the only one it places apps on;
     *                 null when the server runs with --no-agent and places them on remote agents
     * @param serverId this server's id among those sharing the database: deploy targets name the server waiting for them
     */
    public RemoteHosts(
            Agents agents,
            Releases releases,
            Builds builds,
            Formation formation,
            AppConfig config,
            SigningKey signingKey,
            AppLogs logs,
            Duration timeout,
            String embedded,
            String serverId) {
        this.agents = agents;
        this.formation = formation;
        this.embedded = embedded;
        this.desired = new DesiredStates(agents, releases, builds, formation, config, signingKey, embedded, serverId);
        this.waits = new DeployWaits(agents, desired, new PeerServers(agents, serverId), embedded, serverId);
        this.reports = new AgentReports(agents, releases, logs, signingKey, desired, waits, embedded, serverId);
        this.placer = new AppPlacer(agents, releases, formation, logs, desired, reports, embedded, timeout);
        this.views = new HostViews(agents, reports, placer, embedded);
    }

    /**
     * Starts marking silent agents down (checked every heartbeat). For one timeout after the start, none is: after
     * a server restart every agent has been silent, and each needs a moment to reconnect.
     */
    public RemoteHosts start() {
        placer.started();
        monitor = Thread.ofVirtual().name("agent-monitor").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(HEARTBEAT);
                    placer.checkSilent();
                    desired.resync();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    log.error("checking agents failed", e);
                }
            }
        });
        return this;
    }

    /** Shows what the agents' routers report on {@code registry} ({@code /metrics}), as their own timers would be. */
    public RemoteHosts reportRouterMetricsTo(io.micrometer.core.instrument.MeterRegistry registry) {
        reports.reportRouterMetricsTo(registry);
        return this;
    }

    /** The embedded agent's router knows every app of {@code names}, released or not (a new app answers 503, not 404). */
    public RemoteHosts declaringApps(Supplier<List<String>> names) {
        desired.declaring(names);
        return this;
    }

    /** The agent the server starts on its own host, or null (--no-agent). */
    public String embedded() {
        return embedded;
    }

    /** What each agent must run. */
    public DesiredStates desired() {
        return desired;
    }

    /** What agents say. */
    public AgentReports reports() {
        return reports;
    }

    /** The agents and the apps' instances as reported. */
    public HostViews views() {
        return views;
    }

    /** What agents send about a deploy as it runs: its lines and its staged test. */
    DeployWaits waits() {
        return waits;
    }

    /**
     * Deploys release {@code version} of {@code app} on its agent (placing it first if needed) and waits for the
     * agent's report. The target stays set until {@link #settled} is called, once the outcome is recorded.
     */
    @Override
    public Outcome deploy(String app, int version, Manifest manifest, StagedTest test, Progress progress)
            throws InterruptedException {
        Optional<String> host = placer.placeFor(app, manifest);
        if (host.isEmpty())
            return new Outcome.Failed(placer.noAgentFor(app, manifest.run().driver()), Map.of());
        String agent = host.get();
        if (!agent.equals(embedded)) progress.say("-----> Deploying v" + version + " on agent " + agent);
        // Rolling deploys health-check one instance after another.
        int instances =
                Math.max(1, formation.instances(app).orElse(manifest.run().instances()));
        Duration bound = manifest.health()
                .timeout()
                .multipliedBy(instances)
                .plus(DEPLOY_MARGIN)
                .plus(
                        test == StagedTest.NONE || manifest.test().timeout() == null
                                ? Duration.ZERO
                                : manifest.test().timeout());
        return waits.await(app, version, agent, bound, progress, test);
    }

    /**
     * {@code ps:scale}: the app's agent boots (health-gated) or drains the difference between what runs and the
     * app's formation, and this waits for it to say it did.
     */
    @Override
    public Outcome rescale(String app, int version, Manifest manifest, Progress progress) throws InterruptedException {
        Optional<String> agent = agents.placement(app);
        if (agent.isEmpty()) return new Outcome.Failed(app + " is placed on no agent; deploy it first", Map.of());
        int instances =
                Math.max(1, formation.instances(app).orElse(manifest.run().instances()));
        try {
            return waits.await(
                    app,
                    version,
                    agent.get(),
                    manifest.health().timeout().multipliedBy(instances).plus(DEPLOY_MARGIN),
                    progress,
                    StagedTest.NONE);
        } finally {
            settled(app, version);
        }
    }

    /** The outcome of the app's deploy is recorded: its agent runs the live release again (the new one, or the old). */
    @Override
    public void settled(String app, int version) {
        agents.clearTarget(app, version);
        agents.placement(app).ifPresent(desired::changed);
    }

    /** The app is about to be deleted: returns what tells its agent, once it is, to stop running it. */
    @Override
    public Runnable forgetting(String app) {
        Optional<String> agent = agents.placement(app);
        return () -> agent.ifPresent(desired::changed);
    }

    /** Something about the app changed (scale): its agent gets a new desired state. */
    @Override
    public void appChanged(String app) {
        agents.placement(app).ifPresent(desired::changed);
    }

    /** An app was created or destroyed: the embedded agent's router learns it. */
    @Override
    public void appsChanged() {
        if (embedded != null) desired.changed(embedded);
    }

    /** The router URL the app is served at, on its remote agent (null until placed, and on the embedded agent). */
    @Override
    public String url(String app) {
        return agents.placement(app)
                .filter(a -> !a.equals(embedded))
                .flatMap(agents::find)
                .map(a -> "http://" + app + ".localhost:" + HostViews.port(a.router()))
                .orElse(null);
    }

    /** Whether the server is stopping: event streams end so that it can. */
    public boolean closed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
        Thread t = monitor;
        if (t != null) t.interrupt();
    }
}
