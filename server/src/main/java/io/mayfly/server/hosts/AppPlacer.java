package io.mayfly.server.hosts;

import io.mayfly.server.release.AppLogs;
import io.mayfly.server.store.Agents;
import io.mayfly.server.store.Formation;
import io.mayfly.server.store.Releases;
import io.mayfly.wire.manifest.Manifest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where each app runs: placed on an agent when first deployed ({@link Placement} decides, from the agents up, their
 * drivers and their free memory) and moved when its agent falls silent. With an embedded agent, only that one.
 */
final class AppPlacer {
    private static final Logger log = LoggerFactory.getLogger(AppPlacer.class);

    private final Agents agents;
    private final Releases releases;
    private final Formation formation;
    private final AppLogs logs;
    private final DesiredStates desired;
    private final AgentReports reports;
    private final String embedded;
    private final Duration timeout;
    private volatile Instant startedAt = Instant.now();

    AppPlacer(
            Agents agents,
            Releases releases,
            Formation formation,
            AppLogs logs,
            DesiredStates desired,
            AgentReports reports,
            String embedded,
            Duration timeout) {
        this.agents = agents;
        this.releases = releases;
        this.formation = formation;
        this.logs = logs;
        this.desired = desired;
        this.reports = reports;
        this.embedded = embedded;
        this.timeout = timeout;
    }

    /** Agents silent since before now are not marked down for one timeout: after a restart each needs a moment to reconnect. */
    void started() {
        startedAt = Instant.now();
    }

    /** Places the app ({@link Placement}) and records where; the agent it leaves is told. */
    synchronized Optional<String> placeFor(String app, Manifest manifest) {
        String driver = manifest.run().driver();
        List<Agents.Agent> all = agents.all().stream()
                .filter(a -> embedded == null || a.name().equals(embedded))
                .toList();
        Optional<String> current = agents.placement(app);
        // Free memory only where it can matter: each figure reads the releases of every app placed there.
        List<Placement.Candidate> candidates = all.stream()
                .map(a -> {
                    boolean eligible =
                            a.status() == Agents.Status.up && a.drivers().contains(driver);
                    return new Placement.Candidate(
                            a.name(),
                            a.status() == Agents.Status.up,
                            Set.copyOf(a.drivers()),
                            eligible && !current.equals(Optional.of(a.name())) ? a.capacityMb() - usedMb(a.name()) : 0);
                })
                .toList();
        Optional<String> chosen = Placement.choose(driver, current, candidates);
        if (chosen.isPresent() && !chosen.equals(current)) {
            agents.place(app, chosen.get());
            current.ifPresent(desired::changed); // the old agent stops running it
            if (!chosen.get().equals(embedded)) {
                logs.event(
                        app,
                        "placed on agent " + chosen.get()
                                + (current.isPresent() ? " (was on " + current.get() + ")" : ""));
            }
        }
        return chosen;
    }

    /** Memory the agent's placed apps take: each live release's run.memory times its instances. */
    long usedMb(String agent) {
        long used = 0;
        for (String app : agents.appsOn(agent)) {
            Manifest m = releases.live(app).map(Releases.Release::spec).orElse(null);
            if (m == null)
                continue; // counted as nothing; a manifest that does not parse is reported where the release is used
            used += (m.run().memoryBytes() >> 20)
                    * Math.max(1, formation.instances(app).orElse(m.run().instances()));
        }
        return used;
    }

    /** Why no agent takes the app: none offers the driver, and what those up said of it. */
    String noAgentFor(String app, String driver) {
        List<String> why = agents.all().stream()
                .filter(a -> a.status() == Agents.Status.up)
                .map(a -> Optional.ofNullable(reports.unavailable(a.name()).get(driver))
                        .map(r -> a.name() + ": " + r))
                .flatMap(Optional::stream)
                .toList();
        if (embedded != null) {
            return "the " + driver + " driver cannot run on this server"
                    + (why.isEmpty() ? "" : " (" + String.join("; ", why) + ")") + "; see mayfly drivers";
        }
        return "no agent can run " + app + ": none is up that offers the " + driver + " driver"
                + (why.isEmpty() ? "" : " (" + String.join("; ", why) + ")")
                + "; start one with mayfly agent --server URL --token TOKEN (see mayfly agents)";
    }

    /** Marks silent agents down and places their apps on the agents still up. */
    void checkSilent() {
        if (Instant.now().isBefore(startedAt.plus(timeout))) return; // agents are reconnecting after a server restart
        for (String down : agents.markSilentDown(Instant.now().minus(timeout))) {
            log.warn("agent {} has not reported for {} s: marked down", down, timeout.toSeconds());
            for (String app : agents.appsOn(down)) {
                Optional<Releases.Release> live = releases.live(app);
                if (live.isEmpty()) continue;
                Manifest manifest = live.get().spec();
                if (manifest == null) {
                    log.error("cannot move {}: its manifest does not parse", app);
                    continue;
                }
                Optional<String> moved = placeFor(app, manifest);
                if (moved.isPresent() && !moved.get().equals(down)) {
                    logs.event(
                            app,
                            "agent " + down + " is down; v" + live.get().version() + " moves to agent " + moved.get());
                    desired.changed(moved.get());
                } else {
                    logs.event(
                            app,
                            "agent " + down + " is down and no other agent offers "
                                    + manifest.run().driver() + "; " + app + " waits for one");
                }
            }
        }
    }
}
