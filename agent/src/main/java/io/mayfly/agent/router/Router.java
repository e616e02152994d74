package io.mayfly.agent.router;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * The HTTP/1.1 reverse proxy in front of all apps: a request for Host {@code APP.DOMAIN} goes to
 * one of APP's backends, and {@link #switchTo} replaces those backends atomically so that a deploy
 * loses no request. Neither a slow client nor a hung backend holds a connection for longer than
 * its timeout (see {@link RouteLimits}). Runs on its own Netty event loops; see
 * {@code bench/README.md} for how it compares with nginx.
 */
public final class Router implements AutoCloseable {
    /** The Micrometer timer of proxied requests. */
    public static final String REQUESTS = "mayfly.router.requests";
    /** How long a client may take to send a request head, as nginx's {@code client_header_timeout}. */
    public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(30);

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Router.class);
    private final RouteTable routes;
    private final int ioThreads;
    private final Transport transport = Transport.best();
    private MultiThreadIoEventLoopGroup loops;
    private Map<EventExecutor, IdleConnections> pools = Map.of();
    private Channel listener;
    /** The clients' connections; each leaves when it closes. */
    private final io.netty.channel.group.ChannelGroup clients =
            new io.netty.channel.group.DefaultChannelGroup(io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);

    /** Routes Host "{app}.{domain}" (any port, case-insensitive) to app, on one event loop per core. */
    public Router(String domain) {
        this(domain, Runtime.getRuntime().availableProcessors());
    }

    public Router(String domain, int ioThreads) {
        this(domain, ioThreads, null);
    }

    /**
     * As above, timing every proxied request per app into {@code metrics} ({@value #REQUESTS}, tagged {@code app}):
     * the request rate and latency the dashboard draws and {@code /metrics} exports. Null: nothing is measured.
     */
    public Router(String domain, int ioThreads, MeterRegistry metrics) {
        this(domain, ioThreads, metrics, null, null);
    }

    /**
     * As above, with the server-wide timeouts: {@code headerTimeout}, how long a client may take to send a request
     * head (from its connection, or from the first byte of a next request on a kept-alive one; past it, 408 Request
     * Timeout and the connection is closed, without the 408 if the client sent nothing at all, as browsers open
     * connections ahead of need), and the {@code defaults} of the limits each app may change with
     * {@link #limits(String, RouteLimits)}. Null, or a null component: {@link #DEFAULT_HEADER_TIMEOUT}, {@link RouteLimits#DEFAULT}.
     */
    public Router(String domain, int ioThreads, MeterRegistry metrics, Duration headerTimeout, RouteLimits defaults) {
        if (ioThreads < 1) {
            throw new IllegalArgumentException("router needs at least 1 I/O thread, got " + ioThreads);
        }
        this.routes = new RouteTable(
                domain,
                metrics == null
                        ? app -> null
                        : app -> Timer.builder(REQUESTS)
                                .description(
                                        "requests proxied to the app's instances, from request head to last response byte")
                                .tag("app", app)
                                .register(metrics),
                headerTimeout != null ? headerTimeout : DEFAULT_HEADER_TIMEOUT,
                defaults != null ? defaults : RouteLimits.DEFAULT);
        this.ioThreads = ioThreads;
    }

    /**
     * Where the router tells an app's log what went wrong with its instances (an instance that did not answer in
     * time), as {@code (app, line)}: at most one line per app a second, the rest counted into the next line. Called
     * off the event loops, so it may block. Until set, such events are dropped.
     */
    public void reportEventsTo(BiConsumer<String, String> events) {
        routes.reportTo(events);
    }

    /**
     * Sets how long the router waits on the app's clients and instances, for the requests that start from now on;
     * a null component (or null limits) means the server-wide default. Kept until changed or the app is
     * {@link #remove}d; makes the router know the app, as {@link #switchTo} does (no backend yet: 503).
     */
    public synchronized void limits(String app, RouteLimits limits) {
        routes.routeOrCreate(key(app)).limits = limits == null ? routes.defaults : limits.orElse(routes.defaults);
    }

    /** The limits the app's requests get now (every component set): its own, or the defaults for an app the router does not know. */
    public RouteLimits limits(String app) {
        AppRoute route = routes.route(key(app));
        return route == null ? routes.defaults : route.limits;
    }

    /** Listens on bind (port 0 picks a free port) and returns the address actually bound. */
    public synchronized InetSocketAddress start(InetSocketAddress bind) throws InterruptedException {
        return start(bind, false);
    }

    /**
     * Listens on bind, as {@link #start(InetSocketAddress)}. Every router listens with {@code SO_REUSEPORT}, so that a
     * router of a new agent process can listen beside it while it drains ({@link #drain}); {@code takeOver} says this
     * is that new router. Otherwise the port must be free: a second router on it by mistake fails as before.
     */
    public synchronized InetSocketAddress start(InetSocketAddress bind, boolean takeOver) throws InterruptedException {
        if (loops != null) {
            throw new IllegalStateException("router is already started on " + listener.localAddress());
        }
        if (!takeOver && bind.getPort() != 0) {
            try (var probe = new java.net.ServerSocket()) {
                probe.bind(bind);
            } catch (java.io.IOException e) {
                throw new IllegalStateException(
                        "router cannot listen on " + bind.getHostString() + ":" + bind.getPort() + ": " + e.getMessage()
                                + " (is another process using that port?)",
                        e);
            }
        }
        loops = new MultiThreadIoEventLoopGroup(
                ioThreads, new DefaultThreadFactory("mayfly-router"), transport.ioHandlers());
        Map<EventExecutor, IdleConnections> byLoop = new IdentityHashMap<>();
        for (EventExecutor loop : loops) {
            byLoop.put(loop, new IdleConnections((EventLoop) loop, transport));
        }
        pools = Collections.unmodifiableMap(byLoop);
        HttpDecoderConfig decoding = new HttpDecoderConfig()
                .setMaxChunkSize(ClientConnection.MAX_CHUNK)
                .setMaxHeaderSize(ClientConnection.MAX_HEADER_BYTES);
        ChannelFuture bound = new ServerBootstrap()
                .group(loops)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(transport.reusePort(), true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        clients.add(channel);
                        channel.pipeline()
                                .addLast(
                                        new HttpServerCodec(decoding),
                                        new HttpServerExpectContinueHandler(),
                                        new ClientConnection(routes, pools.get(channel.eventLoop())));
                    }
                })
                .bind(bind);
        try {
            bound.await();
        } catch (InterruptedException e) {
            stopLoops();
            throw e;
        }
        if (!bound.isSuccess()) {
            stopLoops();
            throw new IllegalStateException(
                    "router cannot listen on " + bind.getHostString() + ":" + bind.getPort() + ": "
                            + bound.cause().getMessage() + " (is another process using that port?)",
                    bound.cause());
        }
        listener = bound.channel();
        return (InetSocketAddress) listener.localAddress();
    }

    /**
     * Atomically replaces the app's backends; returns the previous list (never null). An empty
     * list means "app known, nothing healthy" and answers 503. Requests started before the switch
     * finish on the old backends: wait for {@link Backend#drained} before stopping them.
     */
    public synchronized List<Backend> switchTo(String app, List<Backend> backends) {
        List<Backend> next = List.copyOf(backends);
        next.forEach(b -> b.routedBy(1));
        List<Backend> previous = routes.routeOrCreate(key(app)).replace(next);
        previous.forEach(b -> b.routedBy(-1));
        closeIdleToUnrouted();
        return previous;
    }

    /** The app's current backends; empty when the app is unknown or has none. */
    public List<Backend> backends(String app) {
        AppRoute route = routes.route(key(app));
        return route == null ? List.of() : route.backends();
    }

    /** The apps the router knows (sorted), whether or not they have backends right now. */
    public List<String> apps() {
        return routes.apps();
    }

    /** Forgets the app: its Host answers 404 from now on. Returns nothing; drain via {@link #backends} taken before. */
    public synchronized void remove(String app) {
        AppRoute route = routes.removeRoute(key(app));
        if (route != null) {
            route.remove().forEach(b -> b.routedBy(-1));
            closeIdleToUnrouted();
        }
    }

    /**
     * Scale to zero: while the app has no backend, hold its requests (at most {@value ClientConnection#MAX_HELD},
     * each for at most {@code holdTimeout}), ask {@code waker} to boot an instance, and serve them once it is routed.
     * A null waker ends holding: requests then get a 503 again.
     */
    public void holdWhileBooting(String app, Waker waker, Duration holdTimeout) {
        AppRoute route = routes.routeOrCreate(key(app));
        route.holdTimeoutNanos = holdTimeout == null ? 0 : holdTimeout.toNanos();
        route.waker = waker;
    }

    /** Requests sent again on a fresh connection after a kept-alive one closed under them. */
    long retriedRequests() {
        return routes.retries();
    }

    @Override
    public synchronized void close() {
        if (loops == null) {
            return;
        }
        listener.close().syncUninterruptibly();
        stopLoops();
    }

    /**
     * Stops taking connections and lets those open finish: each answers its next request (in flight or to come) and
     * closes, so that its client reconnects to whatever listens on the port next (a router that took over with
     * {@code SO_REUSEPORT}). Connections still open after {@code bound} are closed. Then as {@link #close}.
     */
    public synchronized void drain(Duration bound) {
        if (loops == null) {
            return;
        }
        routes.draining = true;
        listener.close().syncUninterruptibly();
        long deadline = System.nanoTime() + bound.toNanos();
        while (!clients.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (!clients.isEmpty()) {
            log.info("closing {} client connection(s) still open after {} of draining", clients.size(), bound);
        }
        stopLoops();
    }

    private void stopLoops() {
        loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        loops = null;
    }

    private void closeIdleToUnrouted() {
        pools.values().forEach(IdleConnections::closeUnrouted);
    }

    private static String key(String app) {
        return app.toLowerCase(Locale.ROOT);
    }
}
