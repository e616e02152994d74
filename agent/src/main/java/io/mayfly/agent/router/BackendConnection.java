package io.mayfly.agent.router;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One kept-alive connection to a backend: carries one {@link Exchange} at a time, or sits idle in the pool. Its
 * {@link Deadline} runs while the exchange waits for the backend, and is pushed on by every read from it.
 */
final class BackendConnection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(BackendConnection.class);

    final Backend backend;
    private final IdleConnections pool;
    Channel channel;
    /** The request this connection is carrying, null while idle. */
    Exchange exchange;

    boolean idle;
    Deadline deadline;

    BackendConnection(Backend backend, IdleConnections pool) {
        this.backend = backend;
        this.pool = pool;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        deadline = new Deadline(channel.eventLoop(), this::timedOut);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Exchange current = exchange;
        if (current == null || ((HttpObject) msg).decoderResult().isFailure()) {
            // Bytes nobody asked for, or a response we cannot parse: this connection cannot be trusted.
            if (current != null) {
                log.debug(
                        "unreadable response from {}: {}",
                        backend,
                        ((HttpObject) msg).decoderResult().cause().toString());
            }
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        if (msg instanceof HttpResponse response) {
            current.responseHead(response);
        }
        if (msg instanceof HttpContent content) {
            current.responseContent(content);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Exchange current = exchange;
        if (current != null) {
            current.flushClient();
            if (deadline.isArmed()) {
                deadline.extend();
            }
        }
    }

    private void timedOut() {
        Exchange current = exchange;
        if (current != null) {
            current.backendTimedOut();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Exchange current = exchange;
        if (current != null) {
            current.backendWritabilityChanged();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        deadline.cancel();
        Exchange current = exchange;
        if (current != null) {
            exchange = null;
            current.backendClosed(this);
        } else if (idle) {
            idle = false;
            pool.forget(this);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("connection to backend {} failed: {}", backend, cause.toString());
        ctx.close();
    }
}
