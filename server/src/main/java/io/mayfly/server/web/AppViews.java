package io.mayfly.server.web;

import io.mayfly.agent.Agent;
import io.mayfly.agent.Instance;
import io.mayfly.server.hosts.RemoteHosts;
import io.mayfly.server.release.ReleaseService;
import io.mayfly.server.store.Apps;
import io.mayfly.server.store.Builds;
import io.mayfly.server.store.Releases;
import io.mayfly.wire.Views;

import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/** The records the API answers with, built in one place so the API, the CLI and the dashboard always agree. */
public final class AppViews {
    private final Supplier<Views.ServerInfo> info;
    private final Builds builds;
    private final Releases releases;
    private final ReleaseService releaseService;
    private final Agent agent;
    private final RemoteHosts hosts;

    /**
     * @param agent the embedded agent, whose instances are read directly (no heartbeat behind)
     * @param hosts the agents, whose reported instances are listed too (the embedded agent's reports aside)
     */
    public AppViews(Supplier<Views.ServerInfo> info, Builds builds, Releases releases, ReleaseService releaseService, Agent agent,
                    RemoteHosts hosts) {
        this.hosts = hosts;
        this.info = info;
        this.builds = builds;
        this.releases = releases;
        this.releaseService = releaseService;
        this.agent = agent;
    }

    public Views.AppView app(Apps.App a) {
        var live = releases.live(a.name());
        var last = releases.list(a.name()).stream().findFirst();
        String sha = live.flatMap(r -> builds.find(a.name(), r.build()))
                .flatMap(b -> b.artifacts().stream().findFirst()).map(Builds.Artifact::sha256).orElse(null);
        return new Views.AppView(a.name(), info.get().apiUrl() + "/git/" + a.name() + ".git", releaseService.url(a.name()),
                live.map(Releases.Release::version).orElse(0), sha, a.createdAt(),
                last.map(r -> r.finishedAt() != null ? r.finishedAt() : r.createdAt()).orElse(null),
                last.map(r -> r.status().name()).orElse(null), a.isPublic());
    }

    public Views.ReleaseView release(Releases.Release r) {
        var build = builds.find(r.app(), r.build());
        var main = build.flatMap(b -> b.artifacts().stream().findFirst());
        return new Views.ReleaseView(r.app(), r.version(), r.build(), main.map(Builds.Artifact::name).orElse(null),
                main.map(Builds.Artifact::sha256).orElse(null), main.map(Builds.Artifact::size).orElse(0L),
                r.status().name(), r.reason(), r.description(), r.createdAt(), r.phases());
    }

    public static Views.BuildView build(Builds.Build b) {
        return new Views.BuildView(b.app(), b.number(), b.status().name(), b.commitId(), b.source(), b.command(), b.exitCode(),
                b.startedAt(), b.durationMs(), b.artifacts().stream().map(a -> new Views.ArtifactView(a.name(), a.sha256(), a.size())).toList(),
                b.reason());
    }

    /**
     * The drivers instances can run on: the embedded agent's (whether each can run here, and why not), or, for a
     * server with remote agents, each driver an agent offers, which agents, and how many instances each runs.
     */
    public List<Views.DriverView> drivers() {
        if (hosts.embedded() == null) return hosts.drivers();
        List<Instance> running = agent.instances();
        return agent.drivers().values().stream().map(d -> {
            var a = d.availability();
            int count = (int) running.stream().filter(i -> i.driver().equals(d.name())).count();
            return new Views.DriverView(d.name(), a.available(), a.detail(), count);
        }).toList();
    }

    /**
     * {@code mayfly drivers --reprobe}: makes {@code driver} forget what it learnt about its host (QEMU: whether KVM
     * runs guests), so that the next boot learns it again. On the embedded agent at once; remote agents (only
     * {@code host}, when named) are asked at their next heartbeat.
     */
    public Views.Reprobed reprobe(String driver, String host) {
        String embedded = hosts.embedded();
        if (embedded == null) {
            List<String> asked = hosts.reprobe(driver, host);
            if (asked.isEmpty()) {
                throw ApiError.notFound(host == null ? "no agent offers the driver " + driver : "agent " + host + " does not offer the driver " + driver,
                        "see mayfly drivers and mayfly agents");
            }
            return new Views.Reprobed(driver, asked, "asked at their next heartbeat; the next boot there learns it again");
        }
        if (host != null && !host.equals(embedded)) {
            throw ApiError.notFound("this server runs its instances on its embedded agent " + embedded + ", not on " + host, "leave out --agent");
        }
        io.mayfly.agent.driver.Driver d = agent.drivers().get(driver);
        if (d == null) {
            throw ApiError.notFound("no driver named " + driver + " on this host", "drivers here: " + String.join(", ", agent.drivers().keySet()));
        }
        try {
            d.reprobe();
        } catch (java.io.IOException e) {
            throw new ApiError(500, "the " + driver + " driver cannot forget what it learnt: " + e.getMessage(), "see the server's log");
        }
        return new Views.Reprobed(driver, List.of(embedded), d.availability().detail());
    }

    /**
     * Every instance of an app, the server's own and those remote agents report; "serving" when a router sends it
     * traffic, "staged" when alive but not routed.
     */
    public List<Views.InstanceView> instances(String app) {
        List<Instance> routed = agent.routed(app);
        List<Views.InstanceView> all = new java.util.ArrayList<>(agent.instances(app).stream().map(i -> instance(i, routed.contains(i))).toList());
        hosts.instances(app).stream().filter(i -> !Objects.equals(i.host(), hosts.embedded())).forEach(all::add);
        return all;
    }

    public Views.InstanceView instance(Instance i, boolean routed) {
        var s = i.state();
        var window = agent.standby(i.app());
        String until = window.map(w -> java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss").withZone(java.time.ZoneOffset.UTC)
                .format(w.until())).orElse("");
        String state = !i.handle().isAlive() ? "exited"
                : window.isPresent() && window.get().previous().contains(i) ? "standing by until " + until
                : routed && window.isPresent() && window.get().fresh().contains(i) ? "serving, on watch until " + until
                : routed ? "serving" : "staged";
        return new Views.InstanceView(i.id(), i.app(), i.release(), i.driver(), state, i.port(), s.pid(), s.startedAt(), i.restarts());
    }
}
