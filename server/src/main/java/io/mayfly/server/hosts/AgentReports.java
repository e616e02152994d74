package io.mayfly.server.hosts;

import io.mayfly.server.registry.SigningKey;
import io.mayfly.server.release.AppLogs;
import io.mayfly.server.store.Agents;
import io.mayfly.server.store.Releases;
import io.mayfly.wire.AgentViews;
import io.mayfly.wire.Json;
import java.io.IOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What agents say: their registration (refused when they speak another protocol) and their heartbeats, which
 * settle the deploys they report, bring a release that failed in its liveness window back, and carry their
 * instances, console output, router totals, events and what their drivers say of the host. Whatever an agent says
 * counts only for the apps placed on it. The answer to a heartbeat asks the drivers to probe the host again.
 */
public final class AgentReports {
    private static final Logger log = LoggerFactory.getLogger(AgentReports.class);
    private static final java.util.regex.Pattern INSTANCE_ID =
            java.util.regex.Pattern.compile("[a-z0-9][a-z0-9-]{0,100}");

    private final Agents agents;
    private final Releases releases;
    private final AppLogs logs;
    private final SigningKey signingKey;
    private final DesiredStates desired;
    private final DeployWaits waits;
    private final String embedded;
    private final String serverId;
    /** Why each agent's missing drivers cannot run there, as it said when it registered. */
    private final Map<String, Map<String, String>> unavailable = new ConcurrentHashMap<>();
    /** The Mayfly version each agent registered with since this server started. */
    private final Map<String, String> versions = new ConcurrentHashMap<>();
    /** How many reports each agent made since this server started. */
    private final Map<String, Long> reportsFrom = new ConcurrentHashMap<>();
    /** What each agent's router served, per app, as its last heartbeat said (since the agent started). */
    private final Map<String, List<AgentViews.RequestTotals>> requests = new ConcurrentHashMap<>();
    /** What each agent's drivers said of its host at its last heartbeat (driver to detail). */
    private final Map<String, Map<String, String>> driverDetails = new ConcurrentHashMap<>();
    /** The drivers each agent must make forget what they learnt, told in the answer to its next heartbeat. */
    private final Map<String, Set<String>> reprobes = new ConcurrentHashMap<>();

    private volatile ReportedRouterMetrics routerMetrics;

    AgentReports(
            Agents agents,
            Releases releases,
            AppLogs logs,
            SigningKey signingKey,
            DesiredStates desired,
            DeployWaits waits,
            String embedded,
            String serverId) {
        this.agents = agents;
        this.releases = releases;
        this.logs = logs;
        this.signingKey = signingKey;
        this.desired = desired;
        this.waits = waits;
        this.embedded = embedded;
        this.serverId = serverId;
    }

    /** Shows what the agents' routers report on {@code registry} ({@code /metrics}), as their own timers would be. */
    void reportRouterMetricsTo(io.micrometer.core.instrument.MeterRegistry registry) {
        routerMetrics = new ReportedRouterMetrics(registry, () -> requests);
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
            throw new io.mayfly.server.http.ApiError(
                    409,
                    "agent " + name + " (Mayfly " + version + ") speaks agent protocol " + protocol
                            + ", this server (Mayfly " + io.mayfly.wire.Version.CURRENT + ") speaks "
                            + AgentViews.PROTOCOL,
                    "upgrade " + upgrade + " to the same Mayfly version as the other");
        }
        if (!version.equals(io.mayfly.wire.Version.CURRENT)) {
            log.warn(
                    "agent {} runs Mayfly {}, this server {}: they speak the same protocol; upgrade one when you can",
                    name,
                    version,
                    io.mayfly.wire.Version.CURRENT);
        }
        versions.put(name, version);
        agents.register(name, registration);
        unavailable.put(name, registration.unavailable() == null ? Map.of() : Map.copyOf(registration.unavailable()));
        log.info(
                "agent {} registered: drivers {}, {} MiB, router {}",
                name,
                registration.drivers(),
                registration.capacityMb(),
                registration.router());
        return new AgentViews.Registered(
                name,
                java.util.Base64.getEncoder().encodeToString(signingKey.publicKeyDer()),
                signingKey.fingerprint(),
                RemoteHosts.HEARTBEAT.toMillis());
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
                if (waits.reported(d)) continue;
                // Another server sharing the database may wait for it: it reads the report from there.
                agents.target(d.app())
                        .filter(t -> t.version() == d.release() && !serverId.equals(t.server()))
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
            if (routerMetrics != null)
                routerMetrics.saw(status.requests().stream()
                        .filter(t -> placed.contains(t.app()))
                        .toList());
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
        if (!releases.rollBack(d.app(), d.release(), d.reason(), d.rolledBackTo()))
            return; // a later deploy already replaced it
        logs.event(
                d.app(),
                "v" + d.release() + " " + d.reason() + "; v" + d.rolledBackTo() + " is the live release again"
                        + (agent.equals(embedded) ? "" : " (agent " + agent + ")"));
        desired.changed(agent);
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

    /**
     * Asks the agents offering {@code driver} (only {@code agent}, when named) to make it forget what it learnt about
     * their host, at their next heartbeat. Returns the agents asked.
     */
    public List<String> reprobe(String driver, String agent) {
        List<String> asked = agents.all().stream()
                .filter(a -> a.drivers().contains(driver)
                        && (agent == null || a.name().equals(agent)))
                .map(Agents.Agent::name)
                .toList();
        asked.forEach(a ->
                reprobes.computeIfAbsent(a, x -> ConcurrentHashMap.newKeySet()).add(driver));
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
                else if (reports > seen)
                    return Optional.ofNullable(
                            driverDetails.getOrDefault(agent, Map.of()).get(driver));
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

    /** What the routers of the agents served, keyed by agent. */
    public Map<String, List<AgentViews.RequestTotals>> requestTotals() {
        return Map.copyOf(requests);
    }

    /** Why the agent's missing drivers cannot run there, as it said when it registered. */
    Map<String, String> unavailable(String agent) {
        return unavailable.getOrDefault(agent, Map.of());
    }

    /** What the agent's drivers said of its host at its last heartbeat. */
    Map<String, String> driverDetails(String agent) {
        return driverDetails.getOrDefault(agent, Map.of());
    }

    /** Requests the agent's router served since it started, every app together. */
    long served(String agent) {
        return requests.getOrDefault(agent, List.of()).stream()
                .mapToLong(AgentViews.RequestTotals::count)
                .sum();
    }
}
