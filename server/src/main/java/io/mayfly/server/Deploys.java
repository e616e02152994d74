package io.mayfly.server;

import io.mayfly.server.build.BuildPolicy;
import io.mayfly.server.build.BuildQueue;
import io.mayfly.server.build.SandboxedBuild;
import io.mayfly.server.git.GitRepositories;
import io.mayfly.server.hosts.RemoteHosts;
import io.mayfly.server.registry.SigningKey;
import io.mayfly.server.release.AppLocks;
import io.mayfly.server.release.AppLogs;
import io.mayfly.server.release.PushPipeline;
import io.mayfly.server.release.RebuildSchedule;
import io.mayfly.server.release.ReleaseService;
import io.mayfly.server.release.SourceBuilds;
import io.mayfly.server.store.Apps;
import io.mayfly.server.store.Stores;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * From a push to a live release: builds (sandboxed, queued for the server's or remote workers), the pipeline that
 * stores them and makes releases, and the target releases run on (the pool of agents). Started with the server.
 */
record Deploys(
        RemoteHosts hosts,
        ReleaseService releases,
        SandboxedBuild sandbox,
        BuildQueue buildQueue,
        PushPipeline pipeline,
        SourceBuilds sourceBuilds,
        RebuildSchedule rebuildSchedule) {

    static Deploys start(
            MayflyServer.Settings settings,
            Path data,
            Path work,
            Stores stores,
            AppLogs logs,
            GitRepositories repos,
            SigningKey signingKey,
            String serverId,
            MeterRegistry metrics)
            throws IOException {
        RemoteHosts hosts = new RemoteHosts(
                        stores.agents(),
                        stores.releases(),
                        stores.builds(),
                        stores.formation(),
                        stores.config(),
                        signingKey,
                        logs,
                        settings.agentTimeout(),
                        settings.embeddedAgent() ? MayflyServer.EMBEDDED_AGENT : null,
                        serverId)
                .reportRouterMetricsTo(metrics)
                .declaringApps(
                        () -> stores.apps().all().stream().map(Apps.App::name).toList())
                .start();
        String routerUrl =
                "http://%s." + settings.domain() + ":" + settings.router().getPort();
        ReleaseService releases = new ReleaseService(
                hosts,
                stores.builds(),
                stores.releases(),
                stores.formation(),
                new AppLocks(Duration.ofMinutes(20)),
                logs,
                stores.config(),
                stores.audit(),
                routerUrl);
        SandboxedBuild sandbox = SandboxedBuild.onThisHost(
                work.resolve("sandbox"),
                settings.buildPolicy() != null ? settings.buildPolicy() : BuildPolicy.defaults(data));
        BuildQueue buildQueue = new BuildQueue(stores.buildJobs(), sandbox, work.resolve("jobs"));
        PushPipeline pipeline = new PushPipeline(
                stores.builds(),
                stores.releases(),
                stores.blobs(),
                releases,
                buildQueue,
                sandbox,
                logs,
                work,
                stores.rebuilds());
        SourceBuilds sourceBuilds = new SourceBuilds(repos, stores.sources(), pipeline, logs);
        RebuildSchedule rebuildSchedule = new RebuildSchedule(stores.releases(), stores.sources(), sourceBuilds, logs);
        rebuildSchedule.start();
        return new Deploys(hosts, releases, sandbox, buildQueue, pipeline, sourceBuilds, rebuildSchedule);
    }
}
