package io.mayfly.server.hosts;

import io.mayfly.server.store.Agents;
import io.mayfly.server.target.DeployTarget;
import io.mayfly.wire.AgentViews;
import io.mayfly.wire.Json;
import io.mayfly.wire.Progress;
import io.mayfly.wire.StagedTest;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The deploys this server waits for: each sets the app's target release and waits for its agent to report it live
 * or failed (straight from the agent, or through the database from another server); meanwhile what the agent says
 * goes to whoever waits, and its staged test runs here, where the build's checkout is.
 */
final class DeployWaits {
    /** How often a deploy waiting for a report looks in the database (where another server keeps it). */
    private static final Duration REPORT_POLL = Duration.ofMillis(100);

    private final Agents agents;
    private final DesiredStates desired;
    private final PeerServers peers;
    private final String embedded;
    private final String serverId;
    private final Map<String, CompletableFuture<AgentViews.DeployReport>> pending = new ConcurrentHashMap<>();
    /** The push (or other caller) waiting on each pending deploy: what the agent says along the way is shown there. */
    private final Map<String, Progress> watching = new ConcurrentHashMap<>();
    /** The staged test of each pending deploy that has one, run when the agent has a healthy new instance. */
    private final Map<String, StagedTest> tests = new ConcurrentHashMap<>();

    DeployWaits(Agents agents, DesiredStates desired, PeerServers peers, String embedded, String serverId) {
        this.agents = agents;
        this.desired = desired;
        this.peers = peers;
        this.embedded = embedded;
        this.serverId = serverId;
    }

    /**
     * Sets the app's target to {@code version} and waits for the agent's report: straight from the agent when it
     * follows this server, else from the database, where the server it follows keeps it.
     */
    DeployTarget.Outcome await(String app, int version, String agent, Duration bound, Progress given, StagedTest test)
            throws InterruptedException {
        if (test != StagedTest.NONE) tests.put(key(app, version), test);
        Progress progress = given.serialized(); // the agent's lines arrive on request threads of their own
        CompletableFuture<AgentViews.DeployReport> report = new CompletableFuture<>();
        pending.put(key(app, version), report);
        watching.put(key(app, version), progress);
        agents.setTarget(app, version, test != StagedTest.NONE, serverId);
        long sent = System.nanoTime();
        desired.changed(agent);
        try {
            AgentViews.DeployReport r = null;
            long deadline = sent + bound.toNanos();
            while (r == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) throw new TimeoutException();
                try {
                    r = report.get(Math.min(left, REPORT_POLL.toNanos()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException notYet) {
                    r = agents.report(app, version)
                            .map(json -> Json.read(json, AgentViews.DeployReport.class))
                            .orElse(null);
                }
            }
            if (r.lines() != null) r.lines().forEach(progress::say); // those it could not send as it went
            Map<String, Long> phases = new java.util.LinkedHashMap<>();
            phases.put(
                    "dispatch",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent)
                            - (r.phases() == null
                                    ? 0
                                    : r.phases().values().stream()
                                            .mapToLong(Long::longValue)
                                            .sum()));
            if (r.phases() != null) phases.putAll(r.phases());
            return r.live()
                    ? new DeployTarget.Outcome.Live(phases)
                    : new DeployTarget.Outcome.Failed(
                            (agent.equals(embedded) ? "" : "on agent " + agent + ": ") + r.reason(), phases);
        } catch (TimeoutException e) {
            return new DeployTarget.Outcome.Failed(
                    "agent " + agent + " did not report v" + version + " live or failed within " + bound.toSeconds()
                            + " s; it keeps what it ran before (see mayfly agents)",
                    Map.of());
        } catch (ExecutionException e) {
            return new DeployTarget.Outcome.Failed("deploy on agent " + agent + " failed: " + e.getCause(), Map.of());
        } finally {
            tests.remove(key(app, version));
            pending.remove(key(app, version));
            watching.remove(key(app, version));
        }
    }

    /** An agent reported {@code d}: true if a deploy here waited for it (it now has its answer). */
    boolean reported(AgentViews.DeployReport d) {
        CompletableFuture<AgentViews.DeployReport> waiting = pending.get(key(d.app(), d.release()));
        if (waiting == null) return false;
        waiting.complete(d);
        return true;
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
        Optional<String> elsewhere = peers.waitingServer(lines.app(), lines.release());
        if (elsewhere.isEmpty()) return false;
        return peers.forward(elsewhere.get(), "/api/v1/agents/" + agent + "/lines", authorization, Json.write(lines))
                .map(r -> r.statusCode() / 100 == 2)
                .orElse(false);
    }

    /**
     * Runs the staged test of a pending deploy against the new instance the agent named, at the address the agent
     * called from ({@code agentHost}, or the one a server passing the request on saw): the instance's port must be
     * reachable from the server. A deploy waiting on another server sharing the database has its test run there.
     * (An agent could name another address itself; the test's output goes only to the push, which the agent's token
     * cannot read.)
     */
    public AgentViews.StagedTestResult test(
            String agent, String agentHost, AgentViews.StagedTestRequest request, String authorization)
            throws InterruptedException {
        String gone = "the server no longer waits for " + request.app() + " v" + request.release() + " on agent "
                + agent + " (it restarted, or the deploy ended)";
        if (!agents.placement(request.app()).map(agent::equals).orElse(false))
            return new AgentViews.StagedTestResult(gone);
        // The agent's address as this server saw it, or as the server that passed the request on saw it.
        String address = request.host() != null ? request.host() : agentHost;
        StagedTest test = tests.get(key(request.app(), request.release()));
        if (test == null) {
            // The deploy may wait on another server sharing the database: the build's checkout and the test are there.
            Optional<String> elsewhere = peers.waitingServer(request.app(), request.release());
            if (elsewhere.isEmpty()) return new AgentViews.StagedTestResult(gone);
            var passed = new AgentViews.StagedTestRequest(request.app(), request.release(), request.port(), address);
            return peers.forward(
                            elsewhere.get(), "/api/v1/agents/" + agent + "/tests", authorization, Json.write(passed))
                    .filter(r -> r.statusCode() == 200)
                    .map(r -> Json.read(r.body(), AgentViews.StagedTestResult.class))
                    .orElse(new AgentViews.StagedTestResult(
                            "the server running the deploy (" + elsewhere.get() + ") could not be reached"));
        }
        String host = address.contains(":") ? "[" + address + "]" : address;
        return new AgentViews.StagedTestResult(test.run("http://" + host + ":" + request.port()));
    }

    private static String key(String app, int release) {
        return app + "/" + release;
    }
}
