package io.mayfly.server;

import io.javalin.Javalin;
import java.net.URI;
import io.mayfly.server.build.BuildPolicy;
import io.mayfly.server.build.BuildQueue;
import io.mayfly.server.build.SandboxedBuild;
import io.mayfly.server.store.BuildJobs;
import io.mayfly.server.dashboard.DashboardPages;
import io.mayfly.server.dashboard.DashboardRoutes;
import io.mayfly.server.dashboard.RequestHistory;
import io.mayfly.server.dashboard.Sessions;
import io.mayfly.server.web.AppViews;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mayfly.server.git.GitRepositories;
import io.mayfly.server.push.LiveReceivePack;
import io.mayfly.server.push.PushReceiver;
import io.mayfly.server.release.AppLocks;
import io.mayfly.server.release.AppLogs;
import io.mayfly.server.release.PushPipeline;
import io.mayfly.server.release.RebuildSchedule;
import io.mayfly.server.release.SourceBuilds;
import io.mayfly.server.release.ReleaseService;
import io.mayfly.server.registry.RegistryRoutes;
import io.mayfly.server.registry.RetentionRoutes;
import io.mayfly.server.registry.UploadRoutes;
import io.mayfly.server.registry.SigningKey;
import io.mayfly.server.store.AppConfig;
import io.mayfly.server.store.Agents;
import io.mayfly.server.hosts.AgentRoutes;
import io.mayfly.server.hosts.EmbeddedAgent;
import io.mayfly.server.hosts.RemoteHosts;
import io.mayfly.server.store.AppSources;
import io.mayfly.server.store.Apps;
import io.mayfly.server.store.DurableFiles;
import io.mayfly.server.store.Formation;
import io.mayfly.server.store.Audit;
import io.mayfly.wire.ConfigCipher;
import io.mayfly.server.store.BuildIndex;
import io.mayfly.server.store.Builds;
import io.mayfly.server.store.ContentAddressedBlobs;
import io.mayfly.server.store.Database;
import io.mayfly.server.store.Rebuilds;
import io.mayfly.server.store.Releases;
import io.mayfly.server.store.Retention;
import io.mayfly.server.store.S3Blobs;
import io.mayfly.server.store.SharedKeys;
import io.mayfly.server.store.Tokens;
import io.mayfly.server.store.WebhookDeliveries;
import io.mayfly.server.http.Access;
import io.mayfly.server.web.ApiRoutes;
import io.mayfly.server.web.GitAuthFilter;
import io.mayfly.server.http.RequestBodies;
import io.mayfly.server.web.SourceRoutes;
import io.mayfly.server.web.TokenRoutes;
import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import jakarta.servlet.DispatcherType;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.HexFormat;

/**
 * One Mayfly server with its embedded agent. Everything is constructed here, by hand, so that what talks to
 * what can be read in one file. The embedded agent runs in this process but is driven like a remote one: it
 * registers over HTTP with an agent token made for it at each start, follows its desired state, fetches the
 * artifacts (hash and signature checked) and reports ({@link RemoteAgent}).
 */
public final class MayflyServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MayflyServer.class);
    public static final String VERSION = io.mayfly.wire.Version.CURRENT;

    /**
     * Where to listen and keep state. Port 0 picks a free port. {@code database} null means the SQLite file in
     * {@code data} (else {@code postgresql://...}); {@code blobStore} null means the blob directory in {@code data}
     * (else {@code s3://...}). Without {@code embeddedAgent} the server runs no instance itself: releases go to
     * remote agents ({@code mayfly agent --server}), marked down after {@code agentTimeout} of silence. With it,
     * {@code agentCommand} is the {@code mayfly agent} command line the embedded agent is started with when none
     * runs (the server adds where to find it, its token, data directory, router address and domain), and
     * {@code stopAgent} stops it with the server (else it keeps serving). {@code buildPolicy} null means
     * {@link BuildPolicy#defaults}.
     * {@code maxUploadBytes} bounds every body that streams instead of sitting in memory: an artifact upload, a build
     * worker's output, and the pack of a git push (JGit has no limit of its own).
     */
    public record Settings(Path data, InetSocketAddress listen, InetSocketAddress router, String domain, long maxUploadBytes,
                           int keepBuilds, String database, String blobStore, boolean embeddedAgent, Duration agentTimeout,
                           List<String> agentCommand, boolean stopAgent, BuildPolicy buildPolicy) {
        public static final long DEFAULT_MAX_UPLOAD = 2L << 30;
        public static final int DEFAULT_KEEP_BUILDS = 20;
        public static final Duration DEFAULT_AGENT_TIMEOUT = Duration.ofSeconds(10);

    }

    private final Settings settings;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final Javalin http;
    private final Views.ServerInfo info;
    private final String createdAdminToken;
    private final RequestHistory requestHistory;
    private final RemoteHosts hosts;
    private final EmbeddedAgent embedded;
    /** The name of the embedded agent, as {@code mayfly agents} lists it. */
    public static final String EMBEDDED_AGENT = "local";
    private static final Duration REGISTRATION_WAIT = Duration.ofSeconds(60);

    private MayflyServer(Settings settings, FileChannel lockChannel, FileLock lock, Javalin http,
                         Views.ServerInfo info, String createdAdminToken, RequestHistory requestHistory, RemoteHosts hosts,
                         EmbeddedAgent embedded) {
        this.hosts = hosts;
        this.embedded = embedded;
        this.settings = settings;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.http = http;
        this.info = info;
        this.createdAdminToken = createdAdminToken;
        this.requestHistory = requestHistory;
    }

    public static MayflyServer start(Settings settings) throws Exception {
        Path data = settings.data().toAbsolutePath();
        Files.createDirectories(data);
        FileChannel lockChannel = FileChannel.open(data.resolve("server.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = lockChannel.tryLock();
        if (lock == null) {
            lockChannel.close();
            throw new IllegalStateException("another Mayfly server is already using " + data + "; stop it first or pass another --data");
        }

        Jdbi db = Database.open(settings.database(), data);
        String serverId = serverId(data);
        Apps apps = new Apps(db);
        Builds builds = new Builds(db, serverId);
        Releases releases = new Releases(db, serverId);
        Tokens tokens = new Tokens(db);
        ContentAddressedBlobs blobs = new ContentAddressedBlobs(data.resolve("blobs"),
                settings.blobStore() == null ? null : S3Blobs.open(settings.blobStore()));
        GitRepositories repos = new GitRepositories(data.resolve("git"));
        AppLogs logs = new AppLogs(data.resolve("logs"));
        Path work = data.resolve("work");
        DurableFiles.deleteTree(work);
        Files.createDirectories(work);

        int interruptedBuilds = builds.failInterrupted();
        int interruptedReleases = releases.failInterrupted();
        if (interruptedBuilds + interruptedReleases > 0) {
            log.warn("marked {} build(s) and {} release(s) failed: they were running when the server stopped", interruptedBuilds, interruptedReleases);
        }
        int specs = builds.storeSpecs() + releases.storeSpecs();
        if (specs > 0) log.info("kept the parsed manifest of {} build(s) and release(s) stored before", specs);
        String createdAdminToken = ensureAdminToken(tokens, data.resolve("admin.token"));

        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(metrics);
        new JvmThreadMetrics().bindTo(metrics);
        new ProcessorMetrics().bindTo(metrics);
        // The router is the embedded agent's, in its own process (bound there); without it nothing is routed here.
        InetSocketAddress routerAddress = settings.router();

        String routerUrl = "http://%s." + settings.domain() + ":" + routerAddress.getPort();
        Audit audit = new Audit(db);
        ConfigCipher cipher = new ConfigCipher(data.resolve("config.key"));
        SigningKey signingKey = SigningKey.loadOrCreate(data);
        SharedKeys.check(db, signingKey.fingerprint(), cipher, data);
        AppConfig appConfig = new AppConfig(db, cipher);
        Formation formation = new Formation(db);
        Agents agentsStore = new Agents(db);
        int abandoned = agentsStore.clearTargetsOf(serverId); // their releases were failed above
        if (abandoned > 0) log.warn("{} deploy(s) this server waited for when it stopped are no agent's target any more", abandoned);
        RemoteHosts hosts = new RemoteHosts(agentsStore, releases, builds, formation, appConfig, signingKey, logs,
                settings.agentTimeout(), settings.embeddedAgent() ? EMBEDDED_AGENT : null, serverId).reportRouterMetricsTo(metrics)
                .declaringApps(() -> apps.all().stream().map(Apps.App::name).toList()).start();
        ReleaseService releaseService = new ReleaseService(hosts, builds, releases, formation,
                new AppLocks(Duration.ofMinutes(20)), logs, appConfig, audit, routerUrl);
        SandboxedBuild sandbox = SandboxedBuild.onThisHost(work.resolve("sandbox"),
                settings.buildPolicy() != null ? settings.buildPolicy() : BuildPolicy.defaults(data));
        BuildQueue buildQueue = new BuildQueue(new BuildJobs(db), sandbox, work.resolve("jobs"));
        PushPipeline pipeline = new PushPipeline(builds, releases, blobs, releaseService, buildQueue, sandbox, logs, work, new Rebuilds(db));
        Access access = new Access(tokens);
        RetentionRoutes retentionRoutes = new RetentionRoutes(access, new Retention(db, blobs, data.resolve("logs")), audit, settings.keepBuilds());
        retentionRoutes.startHourly();
        AppSources appSources = new AppSources(db, appConfig.cipher());
        SourceBuilds sourceBuilds = new SourceBuilds(repos, appSources, pipeline, logs);
        RebuildSchedule rebuildSchedule = new RebuildSchedule(releases, appSources, sourceBuilds, logs);
        rebuildSchedule.start();

        var gitServlet = PushReceiver.servlet(repos, name -> apps.find(name).isPresent(), pipeline, settings.maxUploadBytes());
        Views.ServerInfo[] infoHolder = new Views.ServerInfo[1];
        AppViews appViews = new AppViews(() -> infoHolder[0], builds, releases, releaseService, hosts);
        RequestHistory requestHistory = new RequestHistory(hosts.reports()::requestTotals).start();
        DashboardRoutes dashboard = new DashboardRoutes(new Sessions(), access, apps, releases, releaseService, appConfig, audit,
                appViews, logs, requestHistory, metrics, () -> new DashboardPages.Hosts(settings.embeddedAgent(), appViews.drivers(),
                        hosts.views().agents(), buildQueue.workers()));
        Javalin http = Javalin.create(config -> {
            config.concurrency.useVirtualThreads = true;
            config.http.maxRequestSize = RequestBodies.MAX_BODY; // every ctx.body() and form; uploads and git pushes stream past it
            config.startup.showJavalinBanner = false;
            config.jetty.modifyServletContextHandler(handler -> {
                handler.addFilter(new FilterHolder(new GitAuthFilter(access)), "/git/*", EnumSet.of(DispatcherType.REQUEST));
                handler.addFilter(new FilterHolder(new LiveReceivePack(repos, pipeline, settings.maxUploadBytes())), "/git/*",
                        EnumSet.of(DispatcherType.REQUEST));
                handler.addServlet(new ServletHolder(gitServlet), "/git/*");
            });
            new TokenRoutes(access, tokens, apps, audit).register(config);
            retentionRoutes.register(config);
            new UploadRoutes(access, apps, builds, new BuildIndex(db), releases, releaseService, blobs, logs, settings.maxUploadBytes())
                    .register(config);
            new SourceRoutes(access, apps, audit, appSources, new WebhookDeliveries(db), sourceBuilds, rebuildSchedule, logs,
                    () -> infoHolder[0].apiUrl()).register(config);
            new ApiRoutes(() -> infoHolder[0], access, apps, builds, releases, releaseService, repos, logs, appConfig, audit, appViews)
                    .register(config);
            new RegistryRoutes(access, apps, builds, new BuildIndex(db), new Rebuilds(db), releases, releaseService, blobs, logs,
                    signingKey, dashboard::sessionToken).register(config);
            dashboard.register(config);
            new AgentRoutes(access, hosts, buildQueue, blobs, settings.maxUploadBytes()).register(config);
        });
        http.start(settings.listen().getHostString(), settings.listen().getPort());
        String apiUrl = "http://" + urlHost(settings.listen().getHostString()) + ":" + http.port();
        Views.ServerInfo info = new Views.ServerInfo(VERSION, apiUrl,
                "http://" + urlHost(routerAddress.getHostString()) + ":" + routerAddress.getPort(), settings.domain());
        infoHolder[0] = info;
        // Servers sharing the database pass agents' requests about a deploy on to the server running it, here.
        agentsStore.registerServer(serverId, settings.listen().getAddress() != null && settings.listen().getAddress().isAnyLocalAddress()
                ? "http://" + urlHost(java.net.InetAddress.getLocalHost().getCanonicalHostName()) + ":" + http.port() : apiUrl);

        EmbeddedAgent embedded = null;
        if (settings.embeddedAgent()) {
            // Adopted if it kept running (it serves meanwhile), else started; from here it converges on its desired
            // state, which boots again any live release that nothing serves any more.
            // Where it reaches this server: loopback when the server listens on every address (IPv6 literals bracketed).
            String host = settings.listen().getAddress() == null || settings.listen().getAddress().isAnyLocalAddress()
                    ? "127.0.0.1" : urlHost(settings.listen().getHostString());
            try {
                embedded = EmbeddedAgent.startOrAdopt(data, settings.agentCommand(), EMBEDDED_AGENT, serverId, tokens, hosts,
                        URI.create("http://" + host + ":" + http.port()), routerAddress.getHostString() + ":" + routerAddress.getPort(),
                        settings.domain(), signingKey.fingerprint(), REGISTRATION_WAIT);
            } catch (Exception e) {
                new MayflyServer(settings, lockChannel, lock, http, info, null, requestHistory, hosts, null).close();
                throw e;
            }
        }
        DurableFiles.writeAtomically(data.resolve("server.json"), Json.pretty(info), false); // ready: the CLI finds it here
        return new MayflyServer(settings, lockChannel, lock, http, info, createdAdminToken, requestHistory, hosts, embedded);
    }

    /** A host as a URL names it: IPv6 literals in brackets. */
    private static String urlHost(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /**
     * This server's name among those sharing a database, made on first start and kept in {@code DATA/server.id}:
     * builds and deploys record it, so that a restart fails only its own interrupted work.
     */
    private static String serverId(Path data) throws IOException {
        Path file = data.resolve("server.id");
        if (Files.exists(file)) return Files.readString(file).strip();
        byte[] random = new byte[8];
        new SecureRandom().nextBytes(random);
        String id = HexFormat.of().formatHex(random);
        DurableFiles.writeAtomically(file, id + "\n", false);
        return id;
    }

    private static String ensureAdminToken(Tokens tokens, Path file) throws IOException {
        if (tokens.anyAdmin() && Files.exists(file)) return null;
        Tokens.Created created = tokens.create("admin", null, "created on first start", null);
        DurableFiles.writeAtomically(file, created.secret() + "\n", true);
        return created.secret();
    }

    public Views.ServerInfo info() { return info; }

    /** The admin token if this start created it (first start), else null: it is shown once. */
    public String createdAdminToken() { return createdAdminToken; }

    public Settings settings() { return settings; }

    /** The embedded agent as this start found it (null without one). */
    public EmbeddedAgent.Found embeddedAgent() { return embedded == null ? null : embedded.found(); }

    /**
     * Stops serving the API. The embedded agent keeps routing and running the instances for the next start to adopt,
     * unless {@code stopAgent} was set.
     */
    @Override
    public void close() {
        try {
            hosts.close(); // first: it ends the agents' event streams, which http.stop waits for
            http.stop();
            if (embedded != null && settings.stopAgent()) embedded.stop();
        } catch (IOException e) {
            log.warn("could not stop the embedded agent: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            requestHistory.close();
            try {
                lock.release();
                lockChannel.close();
            } catch (IOException ignored) {
                // the process is going away; the OS drops the lock with it
            }
        }
    }
}
