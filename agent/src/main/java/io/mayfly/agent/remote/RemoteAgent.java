package io.mayfly.agent.remote;

import io.mayfly.agent.Agent;
import io.mayfly.agent.artifacts.ArtifactCache;
import io.mayfly.agent.deploy.DeployStrategy;
import io.mayfly.agent.reconcile.Reconcile;
import io.mayfly.wire.AgentViews;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A host that runs what a Mayfly server assigns to it, holding only an agent token: it may read its own desired
 * state, download the blobs of what it must run, and report; nothing else. The desired state arrives as
 * server-sent events; while the stream is down the agent polls with back-off and keeps trying to reconnect.
 * Converging is the agent's own business: each assigned release is fetched (hash and signature checked), booted,
 * health-checked and switched to by the release's strategy ({@link DeployStrategy}: blue-green, rolling or
 * immediate, as on the server's own agent); apps no longer assigned are drained and stopped.
 * What it runs and how each deploy ended go to the server every heartbeat, and at once after a deploy.
 *
 * <p>The instances and the router live in this process, not in the server's, so a server that stops or crashes
 * changes nothing for the traffic; a restarted agent re-adopts its instances before it talks to anyone.
 *
 * <p>This class wires the parts and runs their threads: {@link DesiredFeed} follows the server into
 * {@link LatestDesired}, {@link ConvergeLoop} brings the host to it (one app at a time by {@link AssignmentRunner},
 * which decides by {@link Reconcile}), and {@link Heartbeat} reports; all speak to the server through {@link ServerApi}.
 */
public final class RemoteAgent implements AutoCloseable {
    private final String name;
    private final Enrolment enrolment;
    private final DesiredFeed feed;
    private final ConvergeLoop converge;
    private final Heartbeat heartbeat;
    private final List<Thread> threads = new ArrayList<>();

    /**
     * @param stream       false: poll only, every {@code pollInterval} (for hosts behind proxies that cut long responses)
     * @param pinnedKey    the fingerprint the server's signing key must have, or null to trust the key it gives
     */
    public RemoteAgent(
            URI server,
            String name,
            String token,
            Agent agent,
            Path dir,
            AgentViews.Registration registration,
            String pinnedKey,
            boolean stream,
            Duration pollInterval,
            Consumer<String> log)
            throws IOException {
        this.name = name;
        ServerApi api = new ServerApi(server, name, token);
        ArtifactCache cache = new ArtifactCache(dir.resolve("cache"));
        LatestDesired latest = new LatestDesired();
        this.enrolment = new Enrolment(api, registration, pinnedKey, log);
        this.feed = new DesiredFeed(api, enrolment, latest, stream, pollInterval, log, this::close);
        this.heartbeat = new Heartbeat(api, enrolment, agent, log);
        AssignmentRunner runner =
                new AssignmentRunner(agent, api, cache, enrolment, new ScaleToZero(agent), heartbeat::report, log);
        this.converge = new ConvergeLoop(agent, latest, runner, new CachePruning(cache, agent, log), log);
    }

    /**
     * What {@code agent} registers with: the drivers its host can run, why each of the others cannot (for the error
     * of a deploy no agent can take), its memory for placement and its router's address.
     */
    public static AgentViews.Registration registration(Agent agent, long capacityMb, String router) {
        List<String> offered = new ArrayList<>();
        Map<String, String> unavailable = new java.util.TreeMap<>();
        agent.drivers().values().forEach(d -> {
            if (d.availability().available()) offered.add(d.name());
            else unavailable.put(d.name(), d.availability().detail());
        });
        return new AgentViews.Registration(
                offered.stream().sorted().toList(),
                capacityMb,
                router,
                unavailable,
                io.mayfly.wire.Version.CURRENT,
                AgentViews.PROTOCOL);
    }

    /** This host's memory, in MiB. */
    public static long hostMemoryMb() {
        var os = (com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os.getTotalMemorySize() >> 20;
    }

    /** Starts following the server: the desired-state feed, the converging loop and the heartbeat, each on its own thread. */
    public RemoteAgent start() {
        threads.add(Thread.ofVirtual().name("desired-" + name).start(feed));
        threads.add(Thread.ofVirtual().name("converge-" + name).start(converge));
        threads.add(Thread.ofVirtual().name("heartbeat-" + name).start(heartbeat));
        return this;
    }

    /**
     * Whether to send the instances' console output with each heartbeat (yes by default). The server's embedded
     * agent does not: the server reads its instances' logs where they are.
     */
    public RemoteAgent shipConsole(boolean ship) {
        heartbeat.shipConsole(ship);
        return this;
    }

    /**
     * Reports, with each heartbeat, what the router timing into {@code metrics} served per app (its
     * {@value io.mayfly.agent.router.Router#REQUESTS} timers): the server charts it on the dashboard.
     */
    public RemoteAgent reportRequests(io.micrometer.core.instrument.MeterRegistry metrics) {
        heartbeat.reportRequests(metrics);
        return this;
    }

    /**
     * An event of this host's agent about an app (give it to the {@link Agent} as its events, beside any local
     * output): sent with the next heartbeat, and shown by the server's {@code mayfly logs}.
     */
    public void event(String app, String line) {
        heartbeat.event(app, line);
    }

    /** Waits until the server has accepted this agent's registration; false if it has not within {@code bound}. */
    public boolean awaitRegistered(Duration bound) throws InterruptedException {
        return enrolment.awaitRegistered(bound);
    }

    /** Stops following the server; the instances and their routes stay for the next start to re-adopt. */
    @Override
    public void close() {
        threads.forEach(Thread::interrupt);
    }
}
