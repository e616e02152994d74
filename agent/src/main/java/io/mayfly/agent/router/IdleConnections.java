package io.mayfly.agent.router;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * One event loop's kept-alive connections to backends, idle and ready for the next request.
 * Only that loop touches it, so taking a connection needs no lock. Connections are keyed by the
 * {@link Backend} object itself: a switch installs new Backend objects, so a connection opened
 * for an old backend can never be handed to a request for a new one.
 */
final class IdleConnections {
    /** Per backend and loop; beyond this, a finished connection is closed instead of kept. */
    static final int MAX_IDLE_PER_BACKEND = 256;

    static final int CONNECT_TIMEOUT_MILLIS = 5_000;

    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final Map<Backend, ArrayDeque<BackendConnection>> idle = new IdentityHashMap<>();

    IdleConnections(EventLoop loop, Transport transport) {
        this.loop = loop;
        this.bootstrap = new Bootstrap()
                .group(loop)
                .channel(transport.clientChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS);
    }

    /** The most recently used idle connection to this backend (least likely to have timed out), or null. */
    BackendConnection take(Backend backend) {
        ArrayDeque<BackendConnection> connections = idle.get(backend);
        if (connections == null) {
            return null;
        }
        BackendConnection connection;
        while ((connection = connections.pollLast()) != null) {
            connection.idle = false;
            if (connection.channel.isActive()) {
                return connection;
            }
        }
        return null;
    }

    /** Opens a new connection; its {@link BackendConnection} is in the pipeline once the future succeeds. */
    ChannelFuture connect(Backend backend) {
        return bootstrap
                .clone()
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        channel.pipeline()
                                .addLast(
                                        new HttpClientCodec(
                                                new HttpDecoderConfig()
                                                        .setMaxChunkSize(ClientConnection.MAX_CHUNK)
                                                        .setMaxHeaderSize(ClientConnection.MAX_HEADER_BYTES),
                                                false,
                                                false),
                                        new BackendConnection(backend, IdleConnections.this));
                    }
                })
                .connect(backend.address());
    }

    void giveBack(BackendConnection connection) {
        if (!connection.channel.isActive() || !connection.backend.isRouted()) {
            connection.channel.close();
            return;
        }
        ArrayDeque<BackendConnection> connections = idle.computeIfAbsent(connection.backend, b -> new ArrayDeque<>());
        if (connections.size() >= MAX_IDLE_PER_BACKEND) {
            connection.channel.close();
            return;
        }
        if (!connection.channel.config().isAutoRead()) {
            connection.channel.config().setAutoRead(true);
        }
        connection.idle = true;
        connections.addLast(connection);
    }

    /** Called when an idle connection was closed by its backend. */
    void forget(BackendConnection connection) {
        ArrayDeque<BackendConnection> connections = idle.get(connection.backend);
        if (connections != null) {
            connections.remove(connection);
        }
    }

    /** Closes idle connections to backends no app routes to any more; runs on this loop. */
    void closeUnrouted() {
        if (!loop.inEventLoop()) {
            loop.execute(this::closeUnrouted);
            return;
        }
        Iterator<Map.Entry<Backend, ArrayDeque<BackendConnection>>> entries =
                idle.entrySet().iterator();
        while (entries.hasNext()) {
            Map.Entry<Backend, ArrayDeque<BackendConnection>> entry = entries.next();
            if (!entry.getKey().isRouted()) {
                for (BackendConnection connection : entry.getValue()) {
                    connection.idle = false;
                    connection.channel.close();
                }
                entries.remove();
            }
        }
    }
}
