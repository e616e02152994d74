package io.mayfly.server;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.mayfly.server.build.BuildPolicy;
import io.mayfly.server.dashboard.DashboardPages;
import io.mayfly.server.dashboard.DashboardRoutes;
import io.mayfly.server.dashboard.RequestHistory;
import io.mayfly.server.dashboard.Sessions;
import io.mayfly.server.git.GitRepositories;
import io.mayfly.server.hosts.AgentRoutes;
import io.mayfly.server.hosts.EmbeddedAgent;
import io.mayfly.server.hosts.RemoteHosts;
import io.mayfly.server.http.Access;
import io.mayfly.server.http.RequestBodies;
import io.mayfly.server.push.LiveReceivePack;
import io.mayfly.server.push.PushReceiver;
import io.mayfly.server.registry.RegistryRoutes;
import io.mayfly.server.registry.RetentionRoutes;
import io.mayfly.server.registry.SigningKey;
import io.mayfly.server.registry.UploadRoutes;
import io.mayfly.server.release.AppLogs;
import io.mayfly.server.store.ContentAddressedBlobs;
import io.mayfly.server.store.Database;
import io.mayfly.server.store.DurableFiles;
import io.mayfly.server.store.Retention;
import io.mayfly.server.store.S3Blobs;
import io.mayfly.server.store.SharedKeys;
import io.mayfly.server.store.Stores;
import io.mayfly.server.store.Tokens;
import io.mayfly.server.web.ApiRoutes;
import io.mayfly.server.web.AppViews;
import io.mayfly.server.web.GitAuthFilter;
import io.mayfly.server.web.SourceRoutes;
import io.mayfly.server.web.TokenRoutes;
import io.mayfly.wire.ConfigCipher;
import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.servlet.DispatcherType;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Mayfly server: the control plane (API, git, registry, dashboard, the agents' protocol) over its stores
 * ({@link Stores}), and the deploy path from a push to a live release ({@link Deploys}). Its instances run on agents:
 * by default the embedded one, a process of its own on this host that it starts or adopts ({@link EmbeddedAgent})
 * and drives like a remote one. What talks to what is wired here, by hand.
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
    public record Settings(
            Path data,
            InetSocketAddress listen,
            InetSocketAddress router,
            String domain,
            long maxUploadBytes,
            int keepBuilds,
            String database,
            String blobStore,
            boolean embeddedAgent,
            Duration agentTimeout,
            List<String> agentCommand,
            boolean stopAgent,
            BuildPolicy buildPolicy) {
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

    private MayflyServer(
            Settings settings,
            FileChannel lockChannel,
            FileLock lock,
            Javalin http,
            Views.ServerInfo info,
            String createdAdminToken,
            RequestHistory requestHistory,
            RemoteHosts hosts,
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
        FileChannel lockChannel =
                FileChannel.open(data.resolve("server.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = lockChannel.tryLock();
        if (lock == null) {
            lockChannel.close();
            throw new IllegalStateException(
                    "another Mayfly server is already using " + data + "; stop it first or pass another --data");
        }

        Jdbi db = Database.open(settings.database(), data);
        String serverId = serverId(data);
        ConfigCipher cipher = new ConfigCipher(data.resolve("config.key"));
        SigningKey signingKey = SigningKey.loadOrCreate(data);
        Stores stores = Stores.open(
                db,
                serverId,
                new ContentAddressedBlobs(
                        data.resolve("blobs"),
                        settings.blobStore() == null ? null : S3Blobs.open(settings.blobStore())),
                cipher);
        GitRepositories repos = new GitRepositories(data.resolve("git"));
        AppLogs logs = new AppLogs(data.resolve("logs"));
        Path work = data.resolve("work");
        DurableFiles.deleteTree(work);
        Files.createDirectories(work);
        recover(stores, serverId);
        String createdAdminToken = ensureAdminToken(stores.tokens(), data.resolve("admin.token"));
        SharedKeys.check(db, signingKey.fingerprint(), cipher, data);

        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(metrics);
        new JvmThreadMetrics().bindTo(metrics);
        new ProcessorMetrics().bindTo(metrics);
        Deploys deploys = Deploys.start(settings, data, work, stores, logs, repos, signingKey, serverId, metrics);
        RemoteHosts hosts = deploys.hosts();
        RequestHistory requestHistory = new RequestHistory(hosts.reports()::requestTotals).start();
        Listening listening = new Listening();
        Javalin http = Javalin.create(config -> routes(
                config, settings, data, stores, deploys, repos, logs, signingKey, metrics, requestHistory, listening));
        http.start(settings.listen().getHostString(), settings.listen().getPort());
        String apiUrl = "http://" + urlHost(settings.listen().getHostString()) + ":" + http.port();
        // The router is the embedded agent's, in its own process (bound there); without it nothing is routed here.
        InetSocketAddress routerAddress = settings.router();
        Views.ServerInfo info = new Views.ServerInfo(
                VERSION,
                apiUrl,
                "http://" + urlHost(routerAddress.getHostString()) + ":" + routerAddress.getPort(),
                settings.domain());
        listening.bound(info);
        // Servers sharing the database pass agents' requests about a deploy on to the server running it, here.
        stores.agents()
                .registerServer(
                        serverId,
                        settings.listen().getAddress() != null
                                        && settings.listen().getAddress().isAnyLocalAddress()
                                ? "http://"
                                        + urlHost(java.net.InetAddress.getLocalHost()
                                                .getCanonicalHostName()) + ":" + http.port()
                                : apiUrl);

        EmbeddedAgent embedded = null;
        if (settings.embeddedAgent()) {
            // Adopted if it kept running (it serves meanwhile), else started; from here it converges on its desired
            // state, which boots again any live release that nothing serves any more.
            // Where it reaches this server: loopback when the server listens on every address (IPv6 literals
            // bracketed).
            String host = settings.listen().getAddress() == null
                            || settings.listen().getAddress().isAnyLocalAddress()
                    ? "127.0.0.1"
                    : urlHost(settings.listen().getHostString());
            try {
                embedded = EmbeddedAgent.startOrAdopt(
                        data,
                        settings.agentCommand(),
                        EMBEDDED_AGENT,
                        serverId,
                        stores.tokens(),
                        hosts,
                        URI.create("http://" + host + ":" + http.port()),
                        routerAddress.getHostString() + ":" + routerAddress.getPort(),
                        settings.domain(),
                        signingKey.fingerprint(),
                        REGISTRATION_WAIT);
            } catch (Exception e) {
                new MayflyServer(settings, lockChannel, lock, http, info, null, requestHistory, hosts, null).close();
                throw e;
            }
        }
        DurableFiles.writeAtomically(
                data.resolve("server.json"), Json.pretty(info), false); // ready: the CLI finds it here
        return new MayflyServer(
                settings, lockChannel, lock, http, info, createdAdminToken, requestHistory, hosts, embedded);
    }

    /**
     * What a stop left behind: the builds and deploys this server was running fail (those of other servers sharing the
     * database go on), and rows stored before manifests were kept parsed get theirs.
     */
    private static void recover(Stores stores, String serverId) {
        int interruptedBuilds = stores.builds().failInterrupted();
        int interruptedReleases = stores.releases().failInterrupted();
        if (interruptedBuilds + interruptedReleases > 0) {
            log.warn(
                    "marked {} build(s) and {} release(s) failed: they were running when the server stopped",
                    interruptedBuilds,
                    interruptedReleases);
        }
        int abandoned = stores.agents().clearTargetsOf(serverId); // their releases were failed above
        if (abandoned > 0)
            log.warn("{} deploy(s) this server waited for when it stopped are no agent's target any more", abandoned);
        int specs = stores.builds().storeSpecs() + stores.releases().storeSpecs();
        if (specs > 0) log.info("kept the parsed manifest of {} build(s) and release(s) stored before", specs);
    }

    /** Every HTTP route: git over HTTP, the API, the registry, the dashboard and the agents' protocol. */
    private static void routes(
            JavalinConfig config,
            Settings settings,
            Path data,
            Stores stores,
            Deploys deploys,
            GitRepositories repos,
            AppLogs logs,
            SigningKey signingKey,
            PrometheusMeterRegistry metrics,
            RequestHistory requestHistory,
            Listening listening) {
        Access access = new Access(stores.tokens());
        AppViews appViews =
                new AppViews(listening::info, stores.builds(), stores.releases(), deploys.releases(), deploys.hosts());
        DashboardRoutes dashboard = new DashboardRoutes(
                new Sessions(),
                access,
                stores,
                deploys.releases(),
                appViews,
                logs,
                requestHistory,
                metrics,
                () -> new DashboardPages.Hosts(
                        settings.embeddedAgent(),
                        appViews.drivers(),
                        deploys.hosts().views().agents(),
                        deploys.buildQueue().workers()));
        RetentionRoutes retention = new RetentionRoutes(
                access,
                new Retention(stores.db(), stores.blobs(), data.resolve("logs")),
                stores.audit(),
                settings.keepBuilds());
        retention.startHourly();
        config.concurrency.useVirtualThreads = true;
        config.http.maxRequestSize =
                RequestBodies.MAX_BODY; // every ctx.body() and form; uploads and git pushes stream past it
        config.startup.showJavalinBanner = false;
        config.jetty.modifyServletContextHandler(handler -> {
            handler.addFilter(
                    new FilterHolder(new GitAuthFilter(access)), "/git/*", EnumSet.of(DispatcherType.REQUEST));
            handler.addFilter(
                    new FilterHolder(new LiveReceivePack(repos, deploys.pipeline(), settings.maxUploadBytes())),
                    "/git/*",
                    EnumSet.of(DispatcherType.REQUEST));
            handler.addServlet(
                    new ServletHolder(PushReceiver.servlet(
                            repos,
                            name -> stores.apps().find(name).isPresent(),
                            deploys.pipeline(),
                            settings.maxUploadBytes())),
                    "/git/*");
        });
        new TokenRoutes(access, stores.tokens(), stores.apps(), stores.audit()).register(config);
        retention.register(config);
        new UploadRoutes(access, stores, deploys.releases(), logs, settings.maxUploadBytes()).register(config);
        new SourceRoutes(
                        access,
                        stores,
                        deploys.sourceBuilds(),
                        deploys.rebuildSchedule(),
                        logs,
                        () -> listening.info().apiUrl())
                .register(config);
        new ApiRoutes(listening::info, access, stores, deploys.releases(), repos, logs, appViews).register(config);
        new RegistryRoutes(access, stores, deploys.releases(), logs, signingKey, dashboard::sessionToken)
                .register(config);
        dashboard.register(config);
        new AgentRoutes(access, deploys.hosts(), deploys.buildQueue(), stores.blobs(), settings.maxUploadBytes())
                .register(config);
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

    public Views.ServerInfo info() {
        return info;
    }

    /** The admin token if this start created it (first start), else null: it is shown once. */
    public String createdAdminToken() {
        return createdAdminToken;
    }

    public Settings settings() {
        return settings;
    }

    /** The embedded agent as this start found it (null without one). */
    public EmbeddedAgent.Found embeddedAgent() {
        return embedded == null ? null : embedded.found();
    }

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
