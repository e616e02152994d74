package io.mayfly.agent.router;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.DecoderResultProvider;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's kept-alive connection to the router: routes each request by its Host header and
 * hands it to an {@link Exchange}, one at a time. A pipelined request that arrives while a
 * response is still streaming waits in a queue, and reading pauses until it is served. One
 * {@link Deadline} bounds how long the client may take over a request head, between two reads
 * of a body, and idle between requests.
 */
final class ClientConnection extends ChannelInboundHandlerAdapter {
    static final int MAX_CHUNK = 64 * 1024;
    static final int MAX_HEADER_BYTES = 16 * 1024;
    /** How many requests one app may have held while it boots from zero; past that they get a 503. */
    static final int MAX_HELD = 1024;
    /** How long an answer before a close gets for the client to read it, while what it still sends is dropped. */
    static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(2);

    private static final Logger log = LoggerFactory.getLogger(ClientConnection.class);

    /** What the next inbound message is. */
    private enum Inbound {
        NEXT_REQUEST,
        BODY,
        DISCARD
    }

    /** What the connection's deadline is waiting for from the client; nothing while a backend is. */
    private enum Wait {
        NOTHING,
        HEAD,
        BODY,
        IDLE,
        LINGER
    }

    private final RouteTable routes;
    private final IdleConnections pool;
    private Channel channel;
    private String clientAddress;
    private Inbound inbound = Inbound.NEXT_REQUEST;
    private Wait waiting = Wait.NOTHING;
    private Deadline deadline;
    /** The limits of the app of the current or last request; the defaults until a request names an app. */
    private RouteLimits limits;
    /** Whether the read under way delivered a message (a head, some body): else it brought part of a head. */
    private boolean readMessage;
    /** Whether the client sent anything at all: a connection that stays silent is closed without a word. */
    private boolean sentAnything;
    /** The request being proxied, from its head until its response is complete. */
    private Exchange exchange;

    private ArrayDeque<Object> pipelined;
    private boolean drainScheduled;
    private Channel backendToFlush;
    private boolean closing;
    // Most connections send one Host over and over: remember its route.
    private String lastHost;
    private AppRoute lastRoute;
    // A request held while its app boots from zero, and what arrived behind it meanwhile.
    private HttpRequest heldRequest;
    private ArrayDeque<Object> heldBehind;
    private ScheduledFuture<?> holdTimer;

    ClientConnection(RouteTable routes, IdleConnections pool) {
        this.routes = routes;
        this.pool = pool;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        deadline = new Deadline(channel.eventLoop(), this::timedOut);
        limits = routes.defaults;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        SocketAddress remote = channel.remoteAddress();
        clientAddress = remote instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress()
                : String.valueOf(remote);
        // The first request's head is timed from the connection on, however slowly its bytes come.
        waiting = Wait.HEAD;
        deadline.arm(routes.headerTimeoutNanos);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        readMessage = true;
        if (pipelined != null && !pipelined.isEmpty()) {
            pipelined.add(msg);
            return;
        }
        dispatch(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        flushBackend();
        // Reads without a message brought part of a head: on an idle connection, a next request has begun.
        watchClient(!readMessage);
        readMessage = false;
        sentAnything = true;
    }

    private void dispatch(Object msg) {
        if (closing) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (heldRequest != null) {
            heldBehind.add(msg);
            return;
        }
        if (msg instanceof DecoderResultProvider decoded
                && decoded.decoderResult().isFailure()) {
            ReferenceCountUtil.release(msg);
            unreadableRequest(decoded.decoderResult().cause());
            return;
        }
        switch (inbound) {
            case BODY -> {
                HttpContent content = (HttpContent) msg;
                if (content instanceof LastHttpContent) {
                    inbound = Inbound.NEXT_REQUEST;
                }
                exchange.fromClient(content);
            }
            case DISCARD -> {
                if (msg instanceof LastHttpContent) {
                    inbound = Inbound.NEXT_REQUEST;
                }
                ReferenceCountUtil.release(msg);
            }
            case NEXT_REQUEST -> {
                if (exchange != null) {
                    // Pipelined behind a response still streaming: wait for it, and stop reading meanwhile.
                    if (pipelined == null) {
                        pipelined = new ArrayDeque<>();
                    }
                    pipelined.add(msg);
                    updateReading();
                } else if (msg instanceof FullHttpRequest full) {
                    // The decoder streams heads and bodies separately; a full request is split the same way.
                    startRequest(
                            new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(), full.headers()));
                    dispatch(new DefaultLastHttpContent(full.content(), full.trailingHeaders()));
                } else if (msg instanceof HttpRequest request) {
                    startRequest(request);
                } else {
                    ReferenceCountUtil.release(msg);
                }
            }
        }
    }

    private void startRequest(HttpRequest request) {
        inbound = Inbound.BODY;
        waiting = Wait.NOTHING;
        deadline.disarm();
        // Draining (another router takes over this port): this request is served, and its answer closes the connection,
        // so the client's next one opens a connection to the router that takes over.
        boolean keepAlive = HttpUtil.isKeepAlive(request) && !routes.draining;
        Iterator<? extends CharSequence> hosts = request.headers().valueCharSequenceIterator(HttpHeaderNames.HOST);
        if (!hosts.hasNext()) {
            answer(HttpResponseStatus.BAD_REQUEST, RouterPages.missingHost(routes.domain), keepAlive);
            return;
        }
        String host = hosts.next().toString();
        if (hosts.hasNext()) {
            // Which one counts differs between proxies and servers: a way to smuggle a request to another app.
            answer(HttpResponseStatus.BAD_REQUEST, RouterPages.twoHosts(), false);
            return;
        }
        AppRoute route = lastRoute;
        if (route == null || route.isRemoved() || !host.equals(lastHost)) {
            limits = routes.defaults;
            String app = routes.appOf(host);
            if (app == null) {
                answer(HttpResponseStatus.NOT_FOUND, RouterPages.notUnderDomain(host, routes.domain), keepAlive);
                return;
            }
            route = routes.route(app);
            if (route == null) {
                answer(HttpResponseStatus.NOT_FOUND, RouterPages.unknownApp(app, routes.domain), keepAlive);
                return;
            }
            lastHost = host;
            lastRoute = route;
        }
        limits = route.limits;
        Backend backend = route.acquire();
        if (backend == null) {
            answerWithoutBackend(route, request, keepAlive);
            return;
        }
        exchange = new Exchange(this, channel, pool, routes, route, backend, request, keepAlive);
        exchange.start(clientAddress, host);
    }

    /**
     * The app is known but has no backend. An app that scales to zero has a waker: the request is held (reading
     * pauses), the app is booted, and the request is served once an instance is routed; otherwise 503.
     */
    private void answerWithoutBackend(AppRoute route, HttpRequest request, boolean keepAlive) {
        Waker waker = route.waker;
        if (route.isRemoved()) {
            answer(HttpResponseStatus.NOT_FOUND, RouterPages.unknownApp(route.app, routes.domain), keepAlive);
        } else if (waker != null && route.tryHold(MAX_HELD)) {
            heldRequest = request;
            heldBehind = new ArrayDeque<>();
            updateReading();
            holdTimer = channel.eventLoop()
                    .schedule(() -> endHold(route, keepAlive, false), route.holdTimeoutNanos, TimeUnit.NANOSECONDS);
            CompletableFuture<?> booted;
            try {
                booted = waker.wake(route.app);
            } catch (RuntimeException e) {
                booted = CompletableFuture.failedFuture(e);
            }
            booted.whenComplete(
                    (ok, error) -> channel.eventLoop().execute(() -> endHold(route, keepAlive, error == null)));
        } else {
            answer(HttpResponseStatus.SERVICE_UNAVAILABLE, RouterPages.noBackend(route.app), keepAlive);
        }
    }

    /** The held request's app booted (or failed to, or took too long): serve the request, or answer 503. */
    private void endHold(AppRoute route, boolean keepAlive, boolean booted) {
        if (heldRequest == null) {
            return;
        }
        HttpRequest request = heldRequest;
        ArrayDeque<Object> behind = heldBehind;
        heldRequest = null;
        heldBehind = null;
        holdTimer.cancel(false);
        route.releaseHold();
        if (closing) {
            behind.forEach(ReferenceCountUtil::release);
            return;
        }
        Backend backend = booted ? route.acquire() : null;
        if (backend == null) {
            answer(HttpResponseStatus.SERVICE_UNAVAILABLE, RouterPages.noBackend(route.app), keepAlive);
        } else {
            exchange = new Exchange(this, channel, pool, routes, route, backend, request, keepAlive);
            exchange.start(clientAddress, request.headers().get(HttpHeaderNames.HOST));
        }
        Object msg;
        while ((msg = behind.poll()) != null) {
            dispatch(msg);
        }
        flushBackend();
        updateReading();
        watchClient(false);
    }

    private void unreadableRequest(Throwable cause) {
        log.debug("unreadable request from {}: {}", clientAddress, String.valueOf(cause));
        if (exchange != null || inbound != Inbound.NEXT_REQUEST) {
            // Mid-request, the rest of the stream cannot be trusted: give up on the connection.
            channel.close();
            return;
        }
        answer(HttpResponseStatus.BAD_REQUEST, RouterPages.badRequest(String.valueOf(cause.getMessage())), false);
    }

    /** Answers the current request from the router itself and moves on to the next one. */
    private void answer(HttpResponseStatus status, String message, boolean keepAlive) {
        if (inbound == Inbound.BODY) {
            inbound = Inbound.DISCARD;
        }
        ChannelFuture written = channel.writeAndFlush(RouterPages.page(status, message, keepAlive));
        if (keepAlive) {
            resumeAfterResponse();
        } else {
            closeAfter(written);
        }
    }

    /** The exchange could not get a response to send on: answer with this page instead (a 502, a 504). */
    void failed(Exchange failed, HttpResponseStatus status, String message, boolean keepAlive) {
        if (exchange != failed) {
            return;
        }
        exchange = null;
        answer(status, message, keepAlive);
    }

    void responseBroken(Exchange broken) {
        if (exchange == broken) {
            exchange = null;
        }
        closing = true;
        channel.close();
    }

    void exchangeFinished(Exchange finished, boolean closeAfter) {
        if (exchange != finished) {
            return;
        }
        exchange = null;
        if (closeAfter) {
            closing = true;
            releasePipelined();
            updateReading();
        } else {
            if (inbound == Inbound.BODY) {
                inbound = Inbound.DISCARD;
            }
            resumeAfterResponse();
        }
    }

    /**
     * Closes once the answer is written: first the router's side, then the rest when the client closes too or after
     * {@link #LINGER_NANOS}. Meanwhile what the client still sends is read and dropped: closing with it unread would
     * reset the connection, and the client's kernel could throw the answer away unread.
     */
    private void closeAfter(ChannelFuture written) {
        closing = true;
        releasePipelined();
        waiting = Wait.LINGER;
        deadline.arm(LINGER_NANOS);
        updateReading();
        written.addListener((ChannelFuture done) -> {
            if (done.isSuccess() && channel instanceof DuplexChannel duplex) {
                duplex.shutdownOutput();
            } else {
                channel.close();
            }
        });
    }

    private void resumeAfterResponse() {
        if (pipelined != null && !pipelined.isEmpty()) {
            // Served on the next loop turn rather than deep inside the backend's read.
            if (!drainScheduled) {
                drainScheduled = true;
                channel.eventLoop().execute(this::drainPipelined);
            }
        } else {
            updateReading();
            watchClient(false);
        }
    }

    private void drainPipelined() {
        drainScheduled = false;
        while (!closing
                && pipelined != null
                && !pipelined.isEmpty()
                && !(inbound == Inbound.NEXT_REQUEST && exchange != null)) {
            dispatch(pipelined.poll());
        }
        flushBackend();
        updateReading();
        watchClient(false);
    }

    /**
     * Points the deadline at what the connection now waits for from the client: the rest of a body (between two
     * reads), a head begun on an idle connection (in total), or a next request (idle). Nothing while a backend
     * is waited for: the exchange's backend connection times that. Called after each read and each response.
     */
    private void watchClient(boolean partOfAHead) {
        if (closing) {
            return;
        }
        if (inbound != Inbound.NEXT_REQUEST && heldRequest == null) {
            waiting = Wait.BODY;
            deadline.arm(limits.requestBody().toNanos());
        } else if (inbound != Inbound.NEXT_REQUEST
                || exchange != null
                || heldRequest != null
                || drainScheduled
                || pipelined != null && !pipelined.isEmpty()) {
            waiting = Wait.NOTHING;
            deadline.disarm();
        } else if (partOfAHead && waiting == Wait.IDLE) {
            waiting = Wait.HEAD;
            deadline.arm(routes.headerTimeoutNanos);
        } else if (waiting != Wait.HEAD && waiting != Wait.IDLE) {
            waiting = Wait.IDLE;
            deadline.arm(limits.idle().toNanos());
        }
    }

    /** The client took too long: answer 408 if nothing of a response went out yet, and close. */
    private void timedOut() {
        if (waiting == Wait.LINGER) {
            channel.close();
            return;
        }
        if (closing) {
            return;
        }
        switch (waiting) {
            case HEAD -> {
                if (sentAnything) {
                    log.debug("client {} sent no complete request head within the header timeout", clientAddress);
                    answer(
                            HttpResponseStatus.REQUEST_TIMEOUT,
                            RouterPages.headTimeout(RouterPages.duration(routes.headerTimeoutNanos)),
                            false);
                } else {
                    // A browser's spare connection, opened ahead of a request that never came: a 408 would only puzzle
                    // it.
                    closing = true;
                    channel.close();
                }
            }
            case BODY -> bodyTimedOut();
            case IDLE -> {
                closing = true;
                channel.close();
            }
            case NOTHING, LINGER -> {}
        }
    }

    private void bodyTimedOut() {
        if (!channel.config().isAutoRead()) {
            // The router stopped reading (a backend still connecting or slow to take the body): not the client's fault.
            deadline.arm(limits.requestBody().toNanos());
            return;
        }
        log.debug("client {} stalled in the middle of a request body", clientAddress);
        Exchange stalled = exchange;
        exchange = null;
        if (stalled != null) {
            stalled.abort();
        }
        if (stalled == null || stalled.responseStarted()) {
            // Some response went out already (the router's own, or the backend's): closing is the only signal left.
            closing = true;
            channel.close();
        } else {
            answer(
                    HttpResponseStatus.REQUEST_TIMEOUT,
                    RouterPages.bodyTimeout(
                            RouterPages.duration(limits.requestBody().toNanos())),
                    false);
        }
    }

    /** Reads while a request can be taken: not queued up, not closing, not ahead of a slow backend. */
    void updateReading() {
        boolean wanted = waiting == Wait.LINGER
                || !closing
                        && heldRequest == null
                        && (pipelined == null || pipelined.isEmpty())
                        && (inbound != Inbound.BODY || exchange == null || exchange.canTakeBody());
        if (channel.config().isAutoRead() != wanted) {
            channel.config().setAutoRead(wanted);
        }
    }

    void flushLater(Channel backendChannel) {
        if (backendToFlush != null && backendToFlush != backendChannel) {
            backendToFlush.flush();
        }
        backendToFlush = backendChannel;
    }

    private void flushBackend() {
        if (backendToFlush != null) {
            Channel toFlush = backendToFlush;
            backendToFlush = null;
            toFlush.flush();
        }
    }

    private void releasePipelined() {
        if (pipelined != null) {
            Object msg;
            while ((msg = pipelined.poll()) != null) {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (exchange != null) {
            exchange.clientWritabilityChanged(channel.isWritable());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing = true;
        deadline.cancel();
        releasePipelined();
        if (heldRequest != null) {
            heldBehind.forEach(ReferenceCountUtil::release);
            heldBehind.clear();
        }
        backendToFlush = null;
        if (exchange != null) {
            Exchange gone = exchange;
            exchange = null;
            gone.abort();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("client connection from {} failed: {}", clientAddress, cause.toString());
        ctx.close();
    }
}
