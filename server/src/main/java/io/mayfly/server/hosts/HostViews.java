package io.mayfly.server.hosts;

import io.mayfly.server.store.Agents;
import io.mayfly.wire.AgentViews;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The agents, their drivers and the apps' instances as the agents last reported them: what ps, the API and the dashboard show. */
public final class HostViews {
    private final Agents agents;
    private final AgentReports reports;
    private final AppPlacer placer;
    private final String embedded;

    HostViews(Agents agents, AgentReports reports, AppPlacer placer, String embedded) {
        this.agents = agents;
        this.reports = reports;
        this.placer = placer;
        this.embedded = embedded;
    }

    /** The app's instances as the agents running them last reported them (an app that moved may be on two for a while). */
    public List<io.mayfly.wire.Views.InstanceView> instances(String app) {
        List<io.mayfly.wire.Views.InstanceView> views = new ArrayList<>();
        for (Agents.Agent a : agents.all()) {
            for (AgentViews.InstanceReport i : a.instances()) {
                if (!i.app().equals(app)) continue;
                String state = a.status() == Agents.Status.down
                        ? "unknown (agent down)"
                        : !i.alive()
                                ? "exited"
                                : i.watchedUntil() != null && i.standby()
                                        ? "standing by until " + clock(i.watchedUntil())
                                        : i.watchedUntil() != null && i.routed()
                                                ? "serving, on watch until " + clock(i.watchedUntil())
                                                : i.routed() ? "serving" : "staged";
                views.add(new io.mayfly.wire.Views.InstanceView(
                        i.id(),
                        i.app(),
                        i.release(),
                        i.driver(),
                        state,
                        i.port(),
                        i.pid(),
                        i.startedAt(),
                        i.restarts(),
                        a.name().equals(embedded) ? null : a.name(),
                        i.residentBytes()));
            }
        }
        return views;
    }

    /** A time of day as ps shows it (UTC), e.g. 14:03:27. */
    private static String clock(Instant t) {
        return java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss")
                .withZone(java.time.ZoneOffset.UTC)
                .format(t);
    }

    /** Each driver some agent offers: available while an agent offering it is up; which agents; instances on it. */
    public List<io.mayfly.wire.Views.DriverView> drivers() {
        java.util.Map<String, List<Agents.Agent>> offering = new java.util.TreeMap<>();
        List<Agents.Agent> all = agents.all();
        for (Agents.Agent a : all)
            a.drivers()
                    .forEach(d ->
                            offering.computeIfAbsent(d, x -> new ArrayList<>()).add(a));
        List<io.mayfly.wire.Views.DriverView> views = new ArrayList<>();
        offering.forEach((driver, by) -> {
            List<String> up = by.stream()
                    .filter(a -> a.status() == Agents.Status.up)
                    .map(Agents.Agent::name)
                    .toList();
            List<String> down = by.stream()
                    .filter(a -> a.status() != Agents.Status.up)
                    .map(Agents.Agent::name)
                    .toList();
            int instances = (int) all.stream()
                    .flatMap(a -> a.instances().stream())
                    .filter(i -> i.driver().equals(driver))
                    .count();
            List<String> said = up.stream()
                    .filter(a -> reports.driverDetails(a).containsKey(driver))
                    .map(a -> a + ": " + reports.driverDetails(a).get(driver))
                    .toList();
            String detail = (up.isEmpty() ? "no agent offering it is up" : "offered by " + String.join(", ", up))
                    + (down.isEmpty() ? "" : "; down: " + String.join(", ", down))
                    + (said.isEmpty() ? "" : "; " + String.join("; ", said));
            if (embedded != null && by.stream().anyMatch(a -> a.name().equals(embedded))) {
                // This server's own host: what the driver says of it, as before the agent had a process of its own.
                String here = reports.driverDetails(embedded).get(driver);
                detail = up.contains(embedded) ? (here != null ? here : "available") : "the embedded agent is down";
            }
            views.add(new io.mayfly.wire.Views.DriverView(driver, !up.isEmpty(), detail, instances));
        });
        // Those the embedded agent cannot run, with why (what to install).
        java.util.Map<String, List<String>> missing = new java.util.TreeMap<>();
        for (Agents.Agent a : all) {
            reports.unavailable(a.name()).forEach((driver, why) -> {
                // The embedded agent's only: a server with remote agents lists what they offer.
                if (!offering.containsKey(driver) && a.name().equals(embedded)) {
                    missing.computeIfAbsent(driver, x -> new ArrayList<>()).add(why);
                }
            });
        }
        missing.forEach((driver, why) ->
                views.add(new io.mayfly.wire.Views.DriverView(driver, false, String.join("; ", why), 0)));
        return views;
    }

    /** The registered agents, with what they run and served. */
    public List<AgentViews.AgentView> agents() {
        List<AgentViews.AgentView> views = new ArrayList<>();
        for (Agents.Agent a : agents.all()) {
            List<String> apps = agents.appsOn(a.name());
            long served = reports.served(a.name());
            views.add(new AgentViews.AgentView(
                    a.name(),
                    a.status().name(),
                    a.drivers(),
                    a.capacityMb(),
                    placer.usedMb(a.name()),
                    a.router(),
                    apps,
                    a.instances().size(),
                    a.lastContact(),
                    served,
                    reports.registeredVersion(a.name()).orElse(null)));
        }
        return views;
    }

    static String port(String address) {
        return address == null ? "?" : address.substring(address.lastIndexOf(':') + 1);
    }
}
