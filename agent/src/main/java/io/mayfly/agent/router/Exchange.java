package io.mayfly.agent.router;

import io.micrometer.core.instrument.Timer;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request proxied to one backend: streams the request body there and the response back, and
 * counts the request on the backend until the response has been written to the client. The
 * backend connection's {@link Deadline} bounds each wait for the backend (the app's response
 * limit). Lives on the client's event loop, which is also the backend connection's, so it needs
 * no locking.
 */
final class Exchange implements ChannelFutureListener {
    private static final Logger log = LoggerFactory.getLogger(Exchange.class);

    /** Where the request goes; another backend of the app when this one refuses the connection (see {@link #reroute}). */
    Backend backend;

    private final ClientConnection client;
    private final Channel clientChannel;
    private final IdleConnections pool;
    private final RouteTable routes;
    private final AppRoute route;
    private final String app;
    private final long responseTimeoutNanos;
    private final HttpRequest request;
    private final boolean clientKeepAlive;
    private final boolean clientHttp10;
    private final boolean idempotent;

    private BackendConnection connection;
    /** Request body received while no backend connection is ready yet. */
    private ArrayDeque<HttpContent> waiting;

    private boolean reused;
    private boolean retried;
    private boolean bodySent;
    private boolean requestComplete;
    private boolean requestSent;
    private boolean responseStarted;
    private boolean skippingInformational;
    private boolean backendKeepAlive;
    private boolean closeClientAfter;
    private boolean clientNeedsFlush;
    /** No more traffic for this exchange; the backend's count may still wait for the last write. */
    private boolean done;

    private boolean countReleased;

    private final Timer timer;
    private final long startNanos = System.nanoTime();

    Exchange(
            ClientConnection client,
            Channel clientChannel,
            IdleConnections pool,
            RouteTable routes,
            AppRoute route,
            Backend backend,
            HttpRequest request,
            boolean clientKeepAlive) {
        this.timer = route.requests;
        this.client = client;
        this.clientChannel = clientChannel;
        this.pool = pool;
        this.routes = routes;
        this.route = route;
        this.app = route.app;
        this.responseTimeoutNanos = route.limits.response().toNanos();
        this.backend = backend;
        this.request = request;
        this.clientKeepAlive = clientKeepAlive;
        this.clientHttp10 = request.protocolVersion().equals(HttpVersion.HTTP_1_0);
        HttpMethod method = request.method();
        this.idempotent = method == HttpMethod.GET
                || method == HttpMethod.HEAD
                || method == HttpMethod.OPTIONS
                || method == HttpMethod.PUT
                || method == HttpMethod.DELETE
                || method == HttpMethod.TRACE;
    }

    /** Rewrites the request head for the backend and sends it on a kept-alive connection, or a new one. */
    void start(String clientAddress, String host) {
        ProxyHeaders.toBackend(request, clientAddress, host);
        BackendConnection idle = pool.take(backend);
        if (idle == null) {
            connect();
            return;
        }
        reused = true;
        attach(idle);
        idle.channel.write(request, idle.channel.voidPromise());
        client.flushLater(idle.channel);
    }

    private void connect() {
        client.updateReading();
        pool.connect(backend).addListener((ChannelFuture future) -> connected(future));
    }

    private void connected(ChannelFuture future) {
        if (done) {
            future.channel().close();
            return;
        }
        if (!future.isSuccess()) {
            log.debug(
                    "cannot connect to {} for app {}: {}",
                    backend,
                    app,
                    future.cause().toString());
            // Nothing reached the app: the request may go to another instance, or to this app's next route when a
            // deploy
            // is moving it right now (an instance that just exited, the one standing by taking the traffic back).
            if (!bodySent && !requestSent && reroute()) {
                return;
            }
            fail("refused the connection or did not answer it");
            return;
        }
        reused = false;
        Channel channel = future.channel();
        attach(channel.pipeline().get(BackendConnection.class));
        channel.write(request, channel.voidPromise());
        if (waiting != null) {
            HttpContent content;
            while ((content = waiting.poll()) != null) {
                send(content);
            }
        }
        channel.flush();
        client.updateReading();
    }

    private void attach(BackendConnection backendConnection) {
        connection = backendConnection;
        backendConnection.exchange = this;
    }

    /** Request body from the client, ending with a {@link LastHttpContent}. */
    void fromClient(HttpContent content) {
        if (done) {
            content.release();
            return;
        }
        if (content instanceof LastHttpContent) {
            requestComplete = true;
        }
        if (connection == null) {
            if (waiting == null) {
                waiting = new ArrayDeque<>(4);
            }
            waiting.add(content);
            return;
        }
        send(content);
    }

    private void send(HttpContent content) {
        if (content.content().isReadable()
                || content instanceof LastHttpContent last
                        && !last.trailingHeaders().isEmpty()) {
            bodySent = true;
        }
        if (content instanceof LastHttpContent) {
            requestSent = true;
            connection.deadline.arm(responseTimeoutNanos);
        }
        Channel channel = connection.channel;
        channel.write(content, channel.voidPromise());
        client.flushLater(channel);
        if (!channel.isWritable()) {
            client.updateReading();
        }
    }

    /** Whether the client may send more body now: a backend connection is ready and not backed up. */
    boolean canTakeBody() {
        return done || connection != null && connection.channel.isWritable();
    }

    /** Whether part of the response went to the client: past that point, a failure can only close the connection. */
    boolean responseStarted() {
        return responseStarted;
    }

    void responseHead(HttpResponse response) {
        int code = response.status().code();
        if (code >= 100 && code < 200) {
            // 100 Continue and friends: the router already answered Expect itself; the real response follows.
            skippingInformational = true;
            return;
        }
        responseStarted = true;
        if (!connection.deadline.isArmed()) {
            // An answer before the whole request was sent: its body is timed from here.
            connection.deadline.arm(responseTimeoutNanos);
        }
        backendKeepAlive = HttpUtil.isKeepAlive(response);
        HttpHeaders headers = response.headers();
        ProxyHeaders.dropHopByHop(headers);
        boolean chunked = HttpUtil.isTransferEncodingChunked(response);
        boolean bodyless = code == 204 || code == 304 || request.method() == HttpMethod.HEAD;
        if (!chunked && !bodyless && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            // The backend ends this body by closing; the client can only learn the end the same way.
            closeClientAfter = true;
        }
        if (chunked && clientHttp10) {
            headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
            closeClientAfter = true;
        }
        if (!clientKeepAlive || closeClientAfter) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (clientHttp10) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        response.setProtocolVersion(HttpVersion.HTTP_1_1);
        clientChannel.write(response, clientChannel.voidPromise());
        clientNeedsFlush = true;
    }

    void responseContent(HttpContent content) {
        if (skippingInformational || !responseStarted) {
            content.release();
            if (content instanceof LastHttpContent) {
                skippingInformational = false;
            }
            return;
        }
        if (content instanceof LastHttpContent last) {
            finishResponse(last);
            return;
        }
        clientChannel.write(content, clientChannel.voidPromise());
        clientNeedsFlush = true;
        if (!clientChannel.isWritable()) {
            connection.channel.config().setAutoRead(false);
        }
    }

    private void finishResponse(LastHttpContent last) {
        done = true;
        if (timer != null) {
            timer.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
        }
        boolean closeAfter = !clientKeepAlive || closeClientAfter || !requestComplete;
        BackendConnection finished = connection;
        connection = null;
        finished.exchange = null;
        finished.deadline.disarm();
        if (backendKeepAlive && requestSent) {
            pool.giveBack(finished);
        } else {
            finished.channel.close();
        }
        clientNeedsFlush = false;
        ChannelFuture written = clientChannel.writeAndFlush(last);
        written.addListener(this);
        if (closeAfter) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
        client.exchangeFinished(this, closeAfter);
    }

    /** The last response byte reached the client's socket (or could not): the request no longer counts. */
    @Override
    public void operationComplete(ChannelFuture written) {
        releaseCount();
        if (!written.isSuccess()) {
            written.channel().close();
        }
    }

    void flushClient() {
        if (clientNeedsFlush) {
            clientNeedsFlush = false;
            clientChannel.flush();
        }
    }

    void backendWritabilityChanged() {
        Deadline deadline = connection.deadline;
        if (!connection.channel.isWritable()) {
            // The backend leaves the request unread: that wait is bounded like the wait for its answer.
            deadline.arm(responseTimeoutNanos);
        } else if (!requestSent && !responseStarted) {
            deadline.disarm();
        }
        client.updateReading();
    }

    void clientWritabilityChanged(boolean writable) {
        if (connection != null) {
            connection.channel.config().setAutoRead(writable);
        }
    }

    /** The request head is to be written again on the next connection. */
    private void unsend() {
        if (requestSent) {
            requestSent = false;
            if (waiting == null) {
                waiting = new ArrayDeque<>(1);
            }
            waiting.add(LastHttpContent.EMPTY_LAST_CONTENT);
        }
    }

    /** How long a request whose connection was refused looks for another instance of its app before it gets a 502. */
    static final long REROUTE_BUDGET_NANOS = TimeUnit.SECONDS.toNanos(2);

    private long rerouteDeadline;
    private long rerouteDelayMillis;

    /**
     * Sends the request to another backend of the app, at once when there is one; otherwise waits a little (1 ms, then
     * doubling up to 50 ms) for the route to change, within {@link #REROUTE_BUDGET_NANOS}. False: the budget is spent.
     */
    private boolean reroute() {
        long now = System.nanoTime();
        if (rerouteDeadline == 0) {
            rerouteDeadline = now + REROUTE_BUDGET_NANOS;
        } else if (now > rerouteDeadline) {
            return false;
        }
        Backend refused = backend;
        releaseCount();
        Backend next = route.acquireExcept(refused);
        if (next == null || route.isRemoved()) {
            return false;
        }
        countReleased = false;
        backend = next;
        routes.countRetry();
        if (next != refused) {
            connect();
            return true;
        }
        rerouteDelayMillis = rerouteDelayMillis == 0 ? 1 : Math.min(rerouteDelayMillis * 2, 50);
        clientChannel
                .eventLoop()
                .schedule(
                        () -> {
                            if (!done) {
                                connect();
                            }
                        },
                        rerouteDelayMillis,
                        TimeUnit.MILLISECONDS);
        return true;
    }

    /** The backend connection closed (or broke) while carrying this exchange. */
    void backendClosed(BackendConnection closed) {
        if (connection == closed) {
            connection = null;
        }
        if (done) {
            return;
        }
        if (responseStarted) {
            // Part of the response is already with the client: closing is the only honest signal left.
            log.debug("backend {} of app {} closed mid-response", backend, app);
            done = true;
            releaseCount();
            client.responseBroken(this);
            return;
        }
        if (reused && !retried && idempotent && !bodySent) {
            // Keep-alive race: the backend closed an idle connection just as this request was sent on
            // it. Nothing reached the application, so the request is sent again on a fresh connection.
            retried = true;
            routes.countRetry();
            unsend();
            connect();
            return;
        }
        // A fresh connection closed before any answer (an instance exiting with connections in its backlog): like
        // nginx's
        // proxy_next_upstream, an idempotent request without a body goes to another instance, or to the app's next
        // route.
        if (idempotent && !bodySent) {
            unsend();
            if (reroute()) {
                return;
            }
        }
        fail("closed the connection before answering");
    }

    /**
     * The backend connection's deadline passed: the backend sent nothing (or took nothing) for the response timeout.
     * Answers 504 if nothing of the response went to the client yet, else closes the client's connection; the backend
     * connection is closed either way, as what it sends late would be taken for the next request's answer.
     */
    void backendTimedOut() {
        if (done) {
            return;
        }
        if (!connection.channel.config().isAutoRead()) {
            // The router stopped reading the backend because the client stopped reading its response: the client
            // stalled.
            log.debug(
                    "client of app {} read nothing of its response for {}",
                    app,
                    RouterPages.duration(responseTimeoutNanos));
            releaseCount();
            drop();
            client.responseBroken(this);
            return;
        }
        String timeout = RouterPages.duration(responseTimeoutNanos);
        String what = request.method() + " " + pathOf(request.uri());
        releaseCount();
        drop();
        if (responseStarted) {
            routes.timedOut(
                    route,
                    "instance " + backend.instanceId() + " stalled for " + timeout
                            + " in the middle of its response to " + what + ": the client's connection was closed",
                    clientChannel.eventLoop());
            client.responseBroken(this);
        } else {
            routes.timedOut(
                    route,
                    "instance " + backend.instanceId() + " did not answer " + what + " within " + timeout
                            + ": the client got 504 Gateway Timeout",
                    clientChannel.eventLoop());
            client.failed(
                    this,
                    HttpResponseStatus.GATEWAY_TIMEOUT,
                    RouterPages.backendFailed(app, backend, "did not answer within " + timeout),
                    clientKeepAlive && requestComplete);
        }
    }

    /** The request's path for the app's log: no query (it may carry secrets), and not too long. */
    private static String pathOf(String uri) {
        int end = uri.indexOf('?');
        if (end < 0) {
            end = uri.length();
        }
        return end > 100 ? uri.substring(0, 100) + "..." : uri.substring(0, end);
    }

    private void fail(String what) {
        releaseCount();
        drop();
        client.failed(
                this, HttpResponseStatus.BAD_GATEWAY, RouterPages.backendFailed(app, backend, what), clientKeepAlive);
    }

    /** The client went away: drop everything of this exchange. */
    void abort() {
        releaseCount();
        drop();
    }

    private void drop() {
        if (done) {
            return;
        }
        done = true;
        releaseWaiting();
        if (connection != null) {
            connection.exchange = null;
            connection.channel.close();
            connection = null;
        }
    }

    private void releaseWaiting() {
        if (waiting != null) {
            HttpContent content;
            while ((content = waiting.poll()) != null) {
                content.release();
            }
        }
    }

    private void releaseCount() {
        if (!countReleased) {
            countReleased = true;
            backend.release();
        }
    }
}
