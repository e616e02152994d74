package io.mayfly.server.web;

import io.mayfly.server.hosts.RemoteHosts;
import io.mayfly.server.http.ApiError;
import io.mayfly.server.release.ReleaseService;
import io.mayfly.server.store.Apps;
import io.mayfly.server.store.Builds;
import io.mayfly.server.store.Releases;
import io.mayfly.wire.Views;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/** The records the API answers with, built in one place so the API, the CLI and the dashboard always agree. */
public final class AppViews {
    private final Supplier<Views.ServerInfo> info;
    private final Builds builds;
    private final Releases releases;
    private final ReleaseService releaseService;
    private final RemoteHosts hosts;

    /** @param hosts the agents, the embedded one included: what they report is all the server knows of instances */
    public AppViews(
            Supplier<Views.ServerInfo> info,
            Builds builds,
            Releases releases,
            ReleaseService releaseService,
            RemoteHosts hosts) {
        this.hosts = hosts;
        this.info = info;
        this.builds = builds;
        this.releases = releases;
        this.releaseService = releaseService;
    }

    public Views.AppView app(Apps.App a) {
        var live = releases.live(a.name());
        var last = releases.list(a.name()).stream().findFirst();
        String sha = live.flatMap(r -> builds.find(a.name(), r.build()))
                .flatMap(b -> b.artifacts().stream().findFirst())
                .map(Builds.Artifact::sha256)
                .orElse(null);
        return new Views.AppView(
                a.name(),
                info.get().apiUrl() + "/git/" + a.name() + ".git",
                releaseService.url(a.name()),
                live.map(Releases.Release::version).orElse(0),
                sha,
                a.createdAt(),
                last.map(r -> r.finishedAt() != null ? r.finishedAt() : r.createdAt())
                        .orElse(null),
                last.map(r -> r.status().name()).orElse(null),
                a.isPublic());
    }

    public Views.ReleaseView release(Releases.Release r) {
        // The artifact it boots from, as the registry names it: the manifest's, not the first by name (a VM's initrd).
        return r.view(builds.find(r.app(), r.build()).flatMap(Builds.Build::mainArtifact));
    }

    public static Views.BuildView build(Builds.Build b) {
        return new Views.BuildView(
                b.app(),
                b.number(),
                b.status().name(),
                b.commitId(),
                b.source(),
                b.command(),
                b.exitCode(),
                b.startedAt(),
                b.durationMs(),
                b.artifacts().stream()
                        .map(a -> new Views.ArtifactView(a.name(), a.sha256(), a.size()))
                        .toList(),
                b.reason());
    }

    /** The drivers instances can run on: those the agents offer (the embedded one's too), and why the others cannot run. */
    public List<Views.DriverView> drivers() {
        return hosts.views().drivers();
    }

    /**
     * {@code mayfly drivers --reprobe}: makes {@code driver} forget what it learnt about its host (QEMU: whether KVM
     * runs guests), so that the next boot learns it again. The agents offering it (only {@code host}, when named) are
     * asked at their next heartbeat.
     */
    public Views.Reprobed reprobe(String driver, String host) {
        String embedded = hosts.embedded();
        if (embedded != null && host != null && !host.equals(embedded)) {
            throw ApiError.notFound(
                    "this server runs its instances on its embedded agent " + embedded + ", not on " + host,
                    "leave out --agent");
        }
        List<String> asked = hosts.reports().reprobe(driver, host);
        if (asked.isEmpty()) {
            throw ApiError.notFound(
                    host == null
                            ? "no agent offers the driver " + driver
                            : "agent " + host + " does not offer the driver " + driver,
                    "see mayfly drivers and mayfly agents");
        }
        if (embedded != null) {
            // The embedded agent is on this host and reports every second: what it says after forgetting is worth the
            // wait.
            try {
                Optional<String> detail =
                        hosts.reports().awaitReprobed(embedded, driver, java.time.Duration.ofSeconds(5));
                if (detail.isPresent()) return new Views.Reprobed(driver, asked, detail.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return new Views.Reprobed(
                driver, asked, "asked at their next heartbeat (about a second); the next boot there learns it again");
    }

    /**
     * Every instance of an app as its agent last reported it (about every second); "serving" when a router sends it
     * traffic, "staged" when alive but not routed.
     */
    public List<Views.InstanceView> instances(String app) {
        return hosts.views().instances(app);
    }
}
